//go:build linux

package ipc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nslab/nslab/pkg/holder"
	"github.com/nslab/nslab/pkg/lab"
	"github.com/nslab/nslab/pkg/spawn"
	"golang.org/x/sys/unix"
)

// The lab's entrypoints, run in children of the lab binary, in the lab host.
const (
	entryHolder = "ipc.holder" // the command loop of a holder
	entryMake   = "ipc.make"   // step 06: a short-lived creator of objects in its parent's IPC namespace
)

func init() {
	spawn.Register(entryHolder, holderMain)
	spawn.Register(entryMake, makeMain)
}

// commands are the holder's commands, sorted by name; a key is a decimal int.
var commands = holder.Commands{
	"create":      withKey(func(k int) ([]string, error) { return objectWords(CreateObjects(k)) }), // step 02
	"limit":       limit,
	"lookup":      withKey(func(k int) ([]string, error) { return objectWords(Lookup(k)) }), // step 06
	"lookupnocap": withKey(lookupNoCap),                                                     // step 06
	"make":        withKey(func(k int) ([]string, error) { return objectWords(makeObjects(k)) }),
	"makeone":     makeOneCmd,
	"mqls":        holder.ListDir,
	"mqmode":      withWord(mqMode),
	"mqmount":     withWord(func(dir string) ([]string, error) { return nil, MountMqueue(dir) }), // step 05
	"mqnul":       withWord(mqCreateNul),                                                         // step 05
	"mqopen":      withWord(mqCreate),                                                            // step 05
	"mqprobe":     withWord(mqProbe),
	"probe":       withKey(probe),
	"recv":        withKey(func(k int) ([]string, error) { s, err := Receive(k); return []string{s}, err }), // step 03
	"send":        send,                                                                                     // step 03
	"spawnmake":   withKey(spawnMake),                                                                       // step 06
	"sysvipc":     sysvipc,
	"sysvlong":    sysvlong,
	"tsend":       typedSend,
}

// holderMain answers one line per command line until stdin closes. A
// learner's unwritten step panics out of it; the spawn shim turns that into
// exit status 3 and one line on stderr, and the parent sees no answer.
func holderMain([]string) int { return holder.Serve(commands.Answer) }

func withKey(fn func(key int) ([]string, error)) holder.Command {
	return func(args []string) ([]string, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("usage: KEY")
		}
		key, err := parseKey(args[0])
		if err != nil {
			return nil, err
		}
		return fn(key)
	}
}

func parseKey(word string) (int, error) {
	key, err := strconv.Atoi(word)
	if err != nil {
		return 0, fmt.Errorf("bad key %q: %w", word, err)
	}
	return key, nil
}

func withWord(fn func(word string) ([]string, error)) holder.Command {
	return func(args []string) ([]string, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("usage: WORD")
		}
		return fn(args[0])
	}
}

func objectWords(o Objects, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return []string{strconv.Itoa(o.Msg), strconv.Itoa(o.Shm), strconv.Itoa(o.Sem)}, nil
}

// parseObjects reads the answer of create, make and lookup.
func parseObjects(words []string) (Objects, error) {
	var o Objects
	if len(words) != 3 {
		return o, fmt.Errorf("want three object IDs, got %q", words)
	}
	var errs [3]error
	o.Msg, errs[0] = strconv.Atoi(words[0])
	o.Shm, errs[1] = strconv.Atoi(words[1])
	o.Sem, errs[2] = strconv.Atoi(words[2])
	for _, err := range errs {
		if err != nil {
			return o, fmt.Errorf("object IDs %q: %w", words, err)
		}
	}
	return o, nil
}

// makeObjects is the lab's own creation of the three objects, for the steps
// that do not grade CreateObjects.
func makeObjects(key int) (o Objects, err error) {
	for _, x := range []struct {
		kind string
		id   *int
	}{{"msg", &o.Msg}, {"shm", &o.Shm}, {"sem", &o.Sem}} {
		if *x.id, err = makeOne(x.kind, key, 0); err != nil {
			return o, err
		}
	}
	return o, nil
}

// probe looks each kind of object up by key, as a check independent of the
// learner's code: "msg=ID" or "msg=ENOENT", and so on.
func probe(key int) ([]string, error) {
	id1, err1 := MsgGet(key, 0)
	id2, err2 := ShmGet(key, 0, 0)
	id3, err3 := SemGet(key, 0, 0)
	return []string{probeWord("msg", id1, err1), probeWord("shm", id2, err2), probeWord("sem", id3, err3)}, nil
}

func probeWord(kind string, id int, err error) string {
	if err != nil {
		return kind + "=" + holder.Errno(err)
	}
	return kind + "=" + strconv.Itoa(id)
}

// sysvipc lists /proc/sysvipc as KIND:KEY:ID words.
func sysvipc([]string) ([]string, error) { return sysvWords(sysvEntry.word) }

// sysvlong lists /proc/sysvipc as KIND:KEY:ID:PERMS:SIZE words.
func sysvlong([]string) ([]string, error) { return sysvWords(sysvEntry.long) }

func sysvWords(word func(sysvEntry) string) ([]string, error) {
	entries, err := readSysVIPC()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = word(e)
	}
	return out, nil
}

// makeOneCmd is "makeone KIND KEY": the lab makes one new object (makeOne
// with IPC_EXCL) and answers its ID.
func makeOneCmd(args []string) ([]string, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("usage: makeone KIND KEY")
	}
	key, err := parseKey(args[1])
	if err != nil {
		return nil, err
	}
	id, err := makeOne(args[0], key, unix.IPC_EXCL)
	if err != nil {
		return nil, err
	}
	return []string{strconv.Itoa(id)}, nil
}

// typedSend is "tsend KEY TYPE TEXT": the lab's own msgsnd(2) of a message
// of that type on the existing queue with key.
func typedSend(args []string) ([]string, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("usage: tsend KEY TYPE TEXT")
	}
	key, err := parseKey(args[0])
	if err != nil {
		return nil, err
	}
	mtype, err := strconv.Atoi(args[1])
	if err != nil || mtype < 1 {
		return nil, fmt.Errorf("usage: tsend KEY TYPE TEXT: type %q is not a positive number", args[1])
	}
	return nil, msgSend(key, mtype, args[2])
}

// limit is "limit NAME VALUE": set one of ipcLimits in this IPC namespace.
func limit(args []string) ([]string, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("usage: limit NAME VALUE")
	}
	v, err := strconv.Atoi(args[1])
	if err != nil {
		return nil, fmt.Errorf("usage: limit NAME VALUE: %w", err)
	}
	return nil, setLimit(args[0], v)
}

// lookupNoCap runs Lookup on a thread without CAP_IPC_OWNER: as the owner
// of the objects, not as root who passes every check.
func lookupNoCap(key int) ([]string, error) {
	var o Objects
	err := lab.WithoutCap(unix.CAP_IPC_OWNER, func() (err error) {
		o, err = Lookup(key)
		return err
	})
	return objectWords(o, err)
}

func send(args []string) ([]string, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("usage: send KEY TEXT")
	}
	key, err := parseKey(args[0])
	if err != nil {
		return nil, err
	}
	return nil, Send(key, args[1])
}

// mqCreate runs CreateQueue and answers with the descriptor it returned,
// what /proc/self/fd/FD links to and its access mode ("-" for each when
// there is no such descriptor), then closes it (the queue stays).
func mqCreate(name string) ([]string, error) {
	fd, err := CreateQueue(name)
	if err != nil {
		return nil, err
	}
	link, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		link = "-"
	}
	access := "-"
	if fdinfo, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd)); err == nil {
		access = accessMode(string(fdinfo))
	}
	if fd > 2 { // never the holder's own standard streams, whatever was returned
		unix.Close(fd)
	}
	return []string{strconv.Itoa(fd), link, access}, nil
}

// accessMode reads the "flags:" line of a /proc/PID/fdinfo/FD file (octal)
// and names its access mode: O_RDONLY, O_WRONLY or O_RDWR ("-" when there
// is no such line).
func accessMode(fdinfo string) string {
	for line := range strings.Lines(fdinfo) {
		v, ok := strings.CutPrefix(line, "flags:")
		if !ok {
			continue
		}
		flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
		if err != nil {
			return "-"
		}
		switch flags & unix.O_ACCMODE {
		case unix.O_RDONLY:
			return "O_RDONLY"
		case unix.O_WRONLY:
			return "O_WRONLY"
		case unix.O_RDWR:
			return "O_RDWR"
		}
		return "-"
	}
	return "-"
}

// mqCreateNul runs CreateQueue with name and a NUL byte after it, a name
// no system call can take.
func mqCreateNul(name string) ([]string, error) {
	return mqCreate(name + "\x00")
}

// mqMode answers the permission bits of path, in octal.
func mqMode(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("%o", fi.Mode().Perm())}, nil
}

// mqProbe opens an existing POSIX queue, independently of the learner's code.
func mqProbe(name string) ([]string, error) {
	fd, err := mqOpen(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	unix.Close(fd)
	return nil, nil
}

// spawnMake runs a child in this holder's IPC namespace that creates the
// three objects and exits; it answers with their IDs once the child is gone.
func spawnMake(key int) ([]string, error) {
	return runChild(spawn.Config{Entrypoint: entryMake, Args: []string{strconv.Itoa(key)}})
}

// runChild runs a child to its end and returns the words of its one line of output.
func runChild(cfg spawn.Config) ([]string, error) {
	var out, errb bytes.Buffer
	cfg.Stdout, cfg.Stderr = &out, &errb
	if err := spawn.Run(context.Background(), cfg); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", cfg.Entrypoint, err, strings.TrimSpace(errb.String()))
	}
	return holder.ParseReply(cfg.Entrypoint, out.String())
}

// makeMain is the child of spawnmake: args are the key. It answers as the
// holder's make command does.
func makeMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: ipc.make KEY")
		return 2
	}
	if _, err := parseKey(args[0]); err != nil {
		fmt.Fprintf(os.Stderr, "usage: ipc.make KEY: %v\n", err)
		return 2
	}
	fmt.Println(commands.Answer([]string{"make", args[0]}))
	return 0
}
