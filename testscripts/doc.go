// Package testscripts holds nslab's scenarios: one *.txtar script per
// behaviour, run by the test in script_test.go with the nslab command and the
// script commands and conditions listed there. It has no code of its own;
// see script_test.go for what the scripts may use. Every scenario leaves the
// machine as it found it (docs/safety.md); the runner checks.
package testscripts
