//go:build linux

package cgroup

import "github.com/nslab/nslab/pkg/lab"

// Lab is the cgroup lab, registered with pkg/lab.
var Lab = &lab.Lab{
	Name:    "cgroup",
	Title:   "Cgroup namespaces: a cgroup tree seen from inside",
	Summary: "   A cgroup namespace changes where a process's view of the cgroup tree starts: its own cgroup reads as /.",
	Steps: []*lab.Step{
		{
			ID: "01", Slug: "new_namespace", Title: "A child rooted at its own cgroup", Points: 10, Cgroup: true,
			Explain: "clone(2) with CLONE_NEWCGROUP roots the child's view at the cgroup it is made in: /proc/self/cgroup reads 0::/ inside, the full path outside.",
			Hints: []string{
				"spawn.Config has a field that creates the child in a cgroup directory, and New lists the kinds to create.",
				"spawn.Config{New: []ns.Kind{ns.Cgroup}, CgroupDir: dir, Args: args}",
			},
			Do: lab.Do(runNewNamespace, checkNewNamespace),
		},
		{
			ID: "02", Slug: "parse_cgroup", Title: "Reading /proc/PID/cgroup", Points: 10,
			Explain: "each line of /proc/PID/cgroup is hierarchy-ID:controllers:path; the path is relative to the reader's cgroup namespace.",
			Hints: []string{
				"Cut each line at its first two colons only: the path may hold colons of its own.",
				"strings.Cut(line, \":\") twice, strconv.Atoi on the ID, strings.Split(controllers, \",\") when not empty.",
			},
			Do: lab.Do(runParse, checkParse),
		},
		{
			ID: "03", Slug: "outside_root", Title: "Other processes, seen from inside", Points: 10, Cgroup: true,
			Explain: "a reader in a cgroup namespace sees every other process's cgroup from its own root: below as /sub, beside as /../sibling.",
			Hints: []string{
				"Read /proc/PID/cgroup of the process asked for, and find the line that starts with 0::.",
				"Keep the path as the kernel wrote it: do not clean it (filepath.Clean would turn /../sibling into /sibling).",
			},
			Do: lab.Do(runView, checkView),
		},
		{
			ID: "04", Slug: "move", Title: "Moving a process to a sub-cgroup", Points: 10, Cgroup: true,
			Explain: "writing a PID to cgroup.procs moves the whole process; inside its namespace the child then reads /sub, outside the full path.",
			Hints: []string{
				"cgroup.procs of the destination directory takes one PID per write.",
				"os.WriteFile(filepath.Join(dir, \"cgroup.procs\"), []byte(strconv.Itoa(pid)), 0)",
			},
			Do: lab.Do(runMove, checkMove),
		},
		{
			ID: "05", Slug: "fresh_mount", Title: "A cgroup2 mount of one's own", Points: 10, Cgroup: true,
			Explain: "a cgroup2 mounted in a cgroup namespace shows the namespace's root and below; the inherited mount still shows the whole tree.",
			Hints: []string{
				"mount(2) with the file system type cgroup2; the source is only a label.",
				"unix.Mount(\"cgroup2\", target, \"cgroup2\", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, \"\")",
			},
			Do: lab.Do(runFreshMount, checkFreshMount),
		},
		{
			ID: "06", Slug: "view_not_limit", Title: "A view, not a limit", Points: 10, Cgroup: true,
			Explain: "a limit belongs to the cgroup: a child in a new cgroup namespace sees the same pids.max at its root as the machine sees at the full path.",
			Hints: []string{
				"pids.max holds a number or the word max; pids.current a number; both end with a newline.",
				"os.ReadFile, strings.TrimSpace, \"max\" -> NoLimit, else strconv.ParseInt(text, 10, 64).",
			},
			Do: lab.Do(runLimit, checkLimit),
		},
	},
}

func init() { lab.Register(Lab) }
