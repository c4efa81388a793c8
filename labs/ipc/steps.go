//go:build linux

package ipc

import (
	"github.com/nslab/nslab/pkg/lab"
)

// Lab is the IPC lab, registered with pkg/lab.
var Lab = &lab.Lab{
	Name:    "ipc",
	Title:   "IPC namespaces: message queues, shared memory and semaphores of one's own",
	Summary: "   An IPC namespace holds System V message queues, shared memory segments and semaphore sets, and POSIX message queues; a key means something only inside one namespace.",
	Steps: []*lab.Step{
		{
			ID: "01", Slug: "new_namespace", Title: "A child in a new IPC namespace", Points: 10,
			Explain: "clone(2) with CLONE_NEWIPC gives the child a new ipc namespace and shares every other kind with its parent.",
			Hints: []string{
				"Use spawn.Start with a Config whose New lists the kinds to create.",
				"spawn.Config{New: []ns.Kind{ns.IPC}, Args: args}",
			},
			Do: lab.Do(runNewNamespace, checkNewNamespace),
		},
		{
			ID: "02", Slug: "invisible", Title: "Objects of one namespace are invisible from another", Points: 20,
			Explain: "A message queue, a shared memory segment and a semaphore set made with key K in namespace A do not exist in namespace B.",
			Hints: []string{
				"msgget(2), shmget(2) and semget(2) create an object when flag has IPC_CREAT; IPC_EXCL makes an existing one an error.",
				"MsgGet, ShmGet and SemGet in sysv.go wrap the three calls; the permission bits go in the low bits of flag.",
				"MsgGet(key, unix.IPC_CREAT|unix.IPC_EXCL|0o600), ShmGet(key, unix.Getpagesize(), ...), SemGet(key, 1, ...)",
			},
			Do: lab.Do(runInvisible, checkInvisible),
		},
		{
			ID: "03", Slug: "same_key", Title: "One key, two independent queues", Points: 15,
			Explain: "The same key names a different message queue in each namespace: a message sent in A never arrives in B.",
			Hints: []string{
				"msgsnd(2) and msgrcv(2) take a buffer that starts with a long message type (positive), then the text.",
				"Call them with unix.Syscall6(unix.SYS_MSGSND, ...) and unix.SYS_MSGRCV, passing unix.IPC_NOWAIT so nothing blocks.",
				"msgrcv(id, &buf[0], MaxText, 0 /* any type */, IPC_NOWAIT) returns the text length; an empty queue gives ENOMSG.",
			},
			Do: lab.Do(runSameKey, checkSameKey),
		},
		{
			ID: "04", Slug: "join", Title: "Joining a namespace shows its objects", Points: 15,
			Explain: "setns(2) moves one thread into another IPC namespace; from there the other namespace's objects are found by key.",
			Hints: []string{
				"A thread that calls setns(2) must stay locked to its goroutine (runtime.LockOSThread) and be put back afterwards.",
				"ns.Do(pid, kinds, fn) does the locking, the setns and the return for you.",
				"return ns.Do(pid, []ns.Kind{ns.IPC}, fn)",
			},
			Do: lab.Do(runJoin, checkJoin),
		},
		{
			ID: "05", Slug: "posix_mqueue", Title: "POSIX message queues are per namespace too", Points: 20,
			Explain: "An mqueue file system shows the POSIX queues of the IPC namespace of whoever mounted it; a queue made in A is absent from B.",
			Hints: []string{
				"mount(2) with fstype \"mqueue\" and any source name; the child is in a new, private mount namespace, so the host sees nothing.",
				"x/sys has no mq_open: call unix.Syscall6(unix.SYS_MQ_OPEN, name, flags, mode, 0, 0, 0) with the name made by unix.BytePtrFromString.",
				"The system call takes the name without its leading slash; flags O_CREAT|O_EXCL|O_RDWR, mode 0600, attr 0 (the defaults).",
			},
			Do: lab.Do(runPosixMqueue, checkPosixMqueue),
		},
		{
			ID: "06", Slug: "gone_with_namespace", Title: "Objects end with their namespace", Points: 20,
			Explain: "System V objects outlive the process that made them, but not their namespace: once its last process exits, they are gone.",
			Hints: []string{
				"The same three get calls as in step 02 look an object up when flag has no IPC_CREAT.",
				"A missing key gives ENOENT; return that error (wrapped) rather than creating anything.",
				"MsgGet(key, 0), ShmGet(key, 0, 0), SemGet(key, 0, 0)",
			},
			Do: lab.Do(runGone, checkGone),
		},
	},
}

func init() { lab.Register(Lab) }
