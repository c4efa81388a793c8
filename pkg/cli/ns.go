package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/nslab/nslab/pkg/ns"
)

const nsUsage = `usage: nslab ns [--json] [--kind KINDS] [PID|self]...
       nslab ns --all [--json] [--kind KINDS]
       nslab ns --tree [--json] [--kind KINDS]

With one process (default: self, the nslab process), prints its namespaces
as ls -l /proc/PID/ns shows them: the kind, the link text (uts:[4026531838])
and the device and inode numbers of the nsfs file (as stat -L -c '%d %i').
With two or more, prints them side by side and marks the kinds whose
namespace differs from the first process's. A process whose children's time
namespace (time_for_children) has clock offsets gets a line with them, as
/proc/PID/timens_offsets shows them (time_offsets in the JSON).

With --all, lists every namespace that a readable process is in, like
lsns(8): NS TYPE NPROCS PID USER OWNER_UID COMMAND, where PID is the lowest
PID in the namespace and OWNER_UID the UID that created the user namespace
owning it (-1 when it cannot be told).

With --tree, lists them as lsns -T does: each namespace under the user
namespace that owns it (NS_GET_USERNS; a user namespace under its parent),
drawn as a tree, or nested in "children" in the JSON, where owner_ns and
parent_ns (NS_GET_PARENT, for PID and user namespaces) give the relations
by inode too.

Flags:
  --all          list every namespace on the machine
  --tree         the same, as a tree of owners (implies --all)
  --json         print JSON instead of a table
  --kind KINDS   only these kinds, comma separated (uts,net,... ; also mount, network)
  -h, --help     print this help

Exit status: 0, 1 when a process cannot be read (no such PID, no permission),
2 for a bad command line.
`

// nsOptions is the parsed command line of nslab ns.
type nsOptions struct {
	all   bool
	tree  bool
	json  bool
	kinds []ns.Kind // nil: all
	pids  []int     // ns.Self for "self"
}

func runNS(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	opts, code, done := parseNS(args, stdout, stderr)
	if done {
		return code
	}
	var err error
	if opts.all {
		err = listAll(stdout, opts)
	} else {
		err = showProcesses(stdout, opts)
	}
	if err != nil {
		return fail(stderr, fmt.Errorf("ns: %w", err))
	}
	return exitOK
}

func parseNS(args []string, stdout, stderr io.Writer) (nsOptions, int, bool) {
	var opts nsOptions
	var kinds string
	fs := newFlagSet("ns")
	fs.BoolVar(&opts.all, "all", false, "")
	fs.BoolVar(&opts.tree, "tree", false, "")
	fs.BoolVar(&opts.json, "json", false, "")
	fs.StringVar(&kinds, "kind", "", "")
	pos, err := parseInterspersed(fs, args)
	if code, done := parseResult(fs, err, stdout, stderr, nsUsage); done {
		return opts, code, true
	}
	opts, err = nsOptionsFrom(opts, kinds, pos)
	if err != nil {
		return opts, fail(stderr, err), true
	}
	return opts, exitOK, false
}

// nsOptionsFrom checks the kinds and PIDs of the command line.
func nsOptionsFrom(opts nsOptions, kinds string, pos []string) (nsOptions, error) {
	var err error
	opts.all = opts.all || opts.tree
	if opts.kinds, err = parseKinds(kinds); err != nil {
		return opts, usageErrorf("ns: --kind: %v", err)
	}
	if opts.all && len(pos) > 0 {
		return opts, usageErrorf("ns: --all lists every process; drop the PIDs %s", strings.Join(pos, " "))
	}
	for _, a := range pos {
		pid, err := parsePID(a)
		if err != nil {
			return opts, usageErrorf("ns: %v", err)
		}
		opts.pids = append(opts.pids, pid)
	}
	if len(opts.pids) == 0 {
		opts.pids = []int{ns.Self}
	}
	return opts, nil
}

// parseKinds parses "uts,net" into kinds; the empty string means all.
func parseKinds(s string) ([]ns.Kind, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var kinds []ns.Kind
	for _, f := range strings.Split(s, ",") {
		k, err := ns.ParseKind(f)
		if err != nil {
			return nil, err
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}

// parsePID accepts "self" or a positive decimal number.
func parsePID(s string) (int, error) {
	if s == "self" {
		return ns.Self, nil
	}
	pid, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("PID %q is not a number (give a process ID such as 1234, or self)", s)
	case pid <= 0:
		return 0, fmt.Errorf("PID %d is not a process ID (PIDs start at 1; use self for nslab itself)", pid)
	}
	return pid, nil
}

// wanted reports whether kind k is shown under the --kind filter.
func (o nsOptions) wanted(k ns.Kind) bool {
	return len(o.kinds) == 0 || slices.Contains(o.kinds, k) ||
		(k != k.Base() && slices.Contains(o.kinds, k.Base()))
}

func showProcesses(w io.Writer, opts nsOptions) error {
	sets := make([]ns.Set, len(opts.pids))
	offsets := make([]*ns.Offsets, len(opts.pids))
	for i, pid := range opts.pids {
		s, err := ns.Of(pid)
		if err != nil {
			return err
		}
		sets[i] = filterSet(s, opts)
		if o, err := ns.TimeOffsets(pid); err == nil && opts.wanted(ns.TimeForChildren) {
			offsets[i] = &o
		}
	}
	if opts.json {
		return writeJSON(w, setsJSON(sets, offsets))
	}
	text := FormatSets(sets)
	if len(sets) == 1 {
		text = FormatSet(sets[0])
	}
	_, err := io.WriteString(w, text+FormatOffsets(sets, offsets))
	return err
}

// FormatOffsets renders the clock offsets of the processes whose
// time_for_children namespace has any: one line each.
func FormatOffsets(sets []ns.Set, offsets []*ns.Offsets) string {
	var b strings.Builder
	for i, o := range offsets {
		if o != nil && *o != (ns.Offsets{}) {
			fmt.Fprintf(&b, "%s: time_for_children offsets: %s\n", title(sets[i].PID), o)
		}
	}
	return b.String()
}

func filterSet(s ns.Set, opts nsOptions) ns.Set {
	out := ns.Set{PID: s.PID, IDs: map[ns.Kind]ns.ID{}}
	for k, id := range s.IDs {
		if opts.wanted(k) {
			out.IDs[k] = id
		}
	}
	for _, k := range s.Absent {
		if opts.wanted(k) {
			out.Absent = append(out.Absent, k)
		}
	}
	return out
}

// FormatSet renders one process's namespaces: KIND ID DEV INODE, in the
// order of ls /proc/PID/ns.
func FormatSet(s ns.Set) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tID\tDEV\tINODE")
	for _, k := range ns.Kinds() {
		if id, ok := s.Get(k); ok {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", k, id, id.Dev, id.Inode)
		}
	}
	tw.Flush()
	return b.String()
}

// FormatSets renders several processes side by side, marking with
// "<- differs" the kinds whose namespace is not the first process's.
func FormatSets(sets []ns.Set) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	head := []string{"KIND"}
	for _, s := range sets {
		head = append(head, title(s.PID))
	}
	fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
	for _, k := range ns.Kinds() {
		if row, present := sideBySide(k, sets); present {
			fmt.Fprintln(tw, row)
		}
	}
	tw.Flush()
	return b.String()
}

func sideBySide(k ns.Kind, sets []ns.Set) (string, bool) {
	row := []string{string(k)}
	present, differs := false, false
	first, _ := sets[0].Get(k)
	for _, s := range sets {
		id, ok := s.Get(k)
		if !ok {
			row = append(row, "-")
			differs = differs || !first.IsZero()
			continue
		}
		present = true
		row = append(row, id.String())
		differs = differs || !id.Equal(first)
	}
	mark := ""
	if differs {
		mark = "<- differs"
	}
	return strings.Join(append(row, mark), "\t"), present
}

func title(pid int) string {
	if pid == ns.Self {
		return fmt.Sprintf("self (PID %d)", os.Getpid())
	}
	return fmt.Sprintf("PID %d", pid)
}

// nsIDJSON is one namespace in the JSON of nslab ns.
type nsIDJSON struct {
	ID    string `json:"id"`
	Dev   uint64 `json:"dev"`
	Inode uint64 `json:"inode"`
}

// processJSON is one process in the JSON of nslab ns.
type processJSON struct {
	PID        int                 `json:"pid"`
	Namespaces map[string]nsIDJSON `json:"namespaces"`
	Absent     []string            `json:"absent"`
	// TimeOffsets are the clock offsets of the process's time_for_children
	// namespace (/proc/PID/timens_offsets), when the kernel shows them.
	TimeOffsets *ns.Offsets `json:"time_offsets,omitempty"`
}

func setsJSON(sets []ns.Set, offsets []*ns.Offsets) []processJSON {
	out := make([]processJSON, len(sets))
	for i, s := range sets {
		p := processJSON{PID: s.PID, Namespaces: map[string]nsIDJSON{}, Absent: []string{}, TimeOffsets: offsets[i]}
		if s.PID == ns.Self {
			p.PID = os.Getpid()
		}
		for k, id := range s.IDs {
			p.Namespaces[string(k)] = nsIDJSON{ID: id.String(), Dev: id.Dev, Inode: id.Inode}
		}
		for _, k := range s.Absent {
			p.Absent = append(p.Absent, string(k))
		}
		out[i] = p
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// infoJSON is one row of nslab ns --all --json: the keys of lsns -J, and more.
type infoJSON struct {
	NS       uint64 `json:"ns"`
	Type     string `json:"type"`
	NProcs   int    `json:"nprocs"`
	PID      int    `json:"pid"`
	User     string `json:"user"`
	Command  string `json:"command"`
	UID      int    `json:"uid"`
	OwnerUID int    `json:"owner_uid"`
	ID       string `json:"id"`
	Owner    uint64 `json:"owner_ns,omitempty"`  // the owning user namespace's inode (lsns ONS)
	Parent   uint64 `json:"parent_ns,omitempty"` // a PID or user namespace's parent's inode (lsns PNS)
}

// treeJSON is a node of nslab ns --tree --json: a row and the rows it owns.
type treeJSON struct {
	infoJSON
	Children []*treeJSON `json:"children,omitempty"`
}

func listAll(w io.Writer, opts nsOptions) error {
	infos, err := ns.List()
	if err != nil {
		return err
	}
	rows := make([]infoJSON, 0, len(infos))
	names := userNames{}
	for _, in := range infos {
		if opts.wanted(in.Kind) {
			rows = append(rows, infoJSON{NS: in.Inode, Type: string(in.Kind), NProcs: in.NProcs, PID: in.PID,
				User: names.of(in.UID), Command: in.Command, UID: in.UID, OwnerUID: in.OwnerUID, ID: in.Link,
				Owner: in.Owner, Parent: in.Parent})
		}
	}
	if opts.tree {
		roots := Tree(rows)
		if opts.json {
			return writeJSON(w, roots)
		}
		_, err = io.WriteString(w, FormatTree(roots))
		return err
	}
	if opts.json {
		return writeJSON(w, rows)
	}
	_, err = io.WriteString(w, FormatList(rows))
	return err
}

// FormatList renders the rows of nslab ns --all as a table like lsns(8).
func FormatList(rows []infoJSON) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "NS\tTYPE\tNPROCS\tPID\tUSER\tOWNER_UID\tCOMMAND")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%d\t%s\n", r.NS, r.Type, r.NProcs, r.PID, Printable(r.User), r.OwnerUID, Printable(r.Command))
	}
	tw.Flush()
	return b.String()
}

// Tree nests rows under the user namespace that owns them (a user
// namespace under its parent); a row whose owner is not listed (outside
// the caller's scope, filtered out by --kind, or holding no process) is a root.
func Tree(rows []infoJSON) []*treeJSON {
	nodes := make([]*treeJSON, len(rows))
	byInode := map[uint64]*treeJSON{}
	for i := range rows {
		nodes[i] = &treeJSON{infoJSON: rows[i]}
		if rows[i].Type == string(ns.User) {
			byInode[rows[i].NS] = nodes[i]
		}
	}
	var roots []*treeJSON
	for _, n := range nodes {
		if owner, ok := byInode[n.Owner]; ok && owner != n && !ownedBy(owner, n) {
			owner.Children = append(owner.Children, n)
			continue
		}
		roots = append(roots, n)
	}
	return roots
}

// ownedBy reports whether a is below b already (a loop the kernel never
// makes, but a race between two reads could).
func ownedBy(a, b *treeJSON) bool {
	for _, c := range b.Children {
		if c == a || ownedBy(a, c) {
			return true
		}
	}
	return false
}

// FormatTree renders nslab ns --tree: the columns of nslab ns --all, the NS
// column drawn as a tree, as lsns -T draws it.
func FormatTree(roots []*treeJSON) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "NS\tTYPE\tNPROCS\tPID\tUSER\tOWNER_UID\tCOMMAND")
	var walk func(n *treeJSON, prefix, branch string)
	walk = func(n *treeJSON, prefix, branch string) {
		r := n.infoJSON
		fmt.Fprintf(tw, "%s%s%d\t%s\t%d\t%d\t%s\t%d\t%s\n", prefix, branch, r.NS, r.Type, r.NProcs, r.PID, Printable(r.User), r.OwnerUID, Printable(r.Command))
		switch branch {
		case "├─":
			prefix += "│ "
		case "└─":
			prefix += "  "
		}
		for i, c := range n.Children {
			next := "├─"
			if i == len(n.Children)-1 {
				next = "└─"
			}
			walk(c, prefix, next)
		}
	}
	for _, r := range roots {
		walk(r, "", "")
	}
	tw.Flush()
	return b.String()
}

// Printable escapes what a terminal would obey in text another user chose
// (a command line, a user name): control characters, DEL and bytes that are
// not UTF-8 become \xHH, as lsns(8) writes them, and a backslash \x5c.
func Printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1, r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0, r == '\\':
			for _, c := range []byte(s[i : i+size]) {
				fmt.Fprintf(&b, "\\x%02x", c)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// userNames maps UIDs to user names from /etc/passwd; an unknown UID prints
// as its number. (os/user would link the C library through cgo, and every
// nslab start, the shim's included, would pay for the dynamic loader:
// docs/performance.md.)
type userNames map[int]string

func (u userNames) of(uid int) string {
	if len(u) == 0 {
		if b, err := os.ReadFile("/etc/passwd"); err == nil {
			maps.Copy(u, parsePasswd(string(b)))
		}
		u[-1] = "-1"
	}
	if name, ok := u[uid]; ok {
		return name
	}
	return strconv.Itoa(uid)
}

// parsePasswd returns the first name of each UID in passwd(5) text.
func parsePasswd(text string) map[int]string {
	names := map[int]string{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Split(line, ":")
		if len(f) < 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		uid, err := strconv.Atoi(f[2])
		if _, dup := names[uid]; err == nil && !dup {
			names[uid] = f[0]
		}
	}
	return names
}
