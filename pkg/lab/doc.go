// Package lab defines what a lab is — an ordered list of steps, each with an
// ID, a title, points, hints and a section in docs/labs/<lab>.md — and runs
// labs narrated: before and after each step it shows the namespace tables of
// the host and of the lab's child side by side, as ls -l /proc/PID/ns would,
// with the kinds that differ marked.
//
// The package knows nothing of any particular namespace: lab packages under
// labs/ register themselves with [Register] from an init function, and the
// nslab command and the magefile find them with [All] and [Get].
//
// The part of a lab that a learner writes sits between the lines
// "// BEGIN SOLUTION" and "// END SOLUTION"; the starter edition replaces it
// with panic(lab.TODO(...)), which [Recover] turns into a clean failure.
package lab
