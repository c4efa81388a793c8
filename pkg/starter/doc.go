// Package starter makes the starter edition of the course: a copy of the
// repository in which the body of every solution region of a lab, the lines
// between "// BEGIN SOLUTION" and "// END SOLUTION" under labs/, is replaced
// by a stub that compiles and, when reached, fails with the lab, the step and
// its section in the docs:
//
//	// BEGIN SOLUTION
//	panic(lab.TODO("uts", "01"))
//	// END SOLUTION
//
// The step comes from the doc comment of the function around the region,
// which says "is step NN"; the lab from the package directory, labs/<name>.
// Imports the stripped code alone used are removed with
// golang.org/x/tools/imports. The markers stay, so the learner sees where to
// write, and stripping a starter edition again changes nothing.
//
// The package needs no privilege. It reads the list of files to copy from
// git ls-files, so git must be installed and the source a git work tree.
package starter
