// Package holder runs a child that keeps its namespaces alive for its
// parent, and talks with it over its standard input and output: the
// "holder" of the labs. There are two kinds, on one parent-side type.
//
// A holder that does one lab command at a time (the ipc, mount and network
// labs) speaks a protocol of one line each way. The parent writes a
// command, words separated by spaces, to the holder's standard input; the
// holder answers with one line on its standard output: "ok [WORDS]" when
// the command worked, "err ERRNO MESSAGE" when it failed (ERRNO is the
// error number's name, ENOENT, or "-" when the failure was not a system
// call's). A holder that reports (most labs' children) writes one line of
// JSON unasked once it runs, or a few lines of text, and answers nothing.
// Either exits when its standard input is closed, and its namespaces end
// with it unless another process is in them.
//
// Parent side: [Start] starts a [spawn.Config] as a holder, held like any
// spawn child, with its standard files wired to pipes; [StartWith] does the
// same through a start function (a learner's that calls spawn.Start), and
// [StartCommand] makes a holder of an [exec.Cmd] started by the caller's
// function (on a thread of its choice). [Holder.Release] lets it run;
// [Holder.Do] sends a command and returns the words after "ok" or a
// [*CommandError]; [Holder.Report] releases a reporting holder and decodes
// its report, [Holder.Next] reads its next line; [Holder.Close] ends it and
// [Holder.Stop] kills it. A holder that stops answering, or ends before it
// reports (an unwritten lab step panics in it), is reaped, and the error
// says its exit status and what it wrote on stderr ([Holder.Stderr]).
//
// Child side: the function registered with [spawn.Register] as the
// holder's entrypoint calls [Serve] with an answer function, usually the
// Answer method of a [Commands] map, or [ReportAndHold] with its report.
//
// Threads: the parent's methods may be called from any goroutine; they send
// one command at a time. In the holder, Serve runs each command on the
// goroutine that called it. A command that changes the namespaces of its
// thread (setns(2), unshare(2)) must lock its goroutine to the OS thread
// and never unlock it in the changed state: do such work in a goroutine
// locked for good, as the mount lab's peers do, or through [ns.Do].
//
// Privilege: none of its own. Starting the holder needs what its
// namespaces need ([spawn.Check]); its commands need what they do.
//
// See namespaces(7).
package holder
