package loop

import "strings"

// argSpec is what a target takes besides flags.
type argSpec struct {
	labFlag    bool     // a bare word is the lab: grade uts is grade -lab=uts
	positional int      // how many bare words come first (hint's lab; reset's lab and step)
	values     []string // flags that take a value, which may follow as the next word (-step 2)
}

var specs = map[string]argSpec{
	"grade":    {labFlag: true, values: []string{"lab", "pristine"}},
	"progress": {labFlag: true, values: []string{"lab"}},
	"status":   {labFlag: true, values: []string{"lab"}},
	"watch":    {labFlag: true, values: []string{"lab"}},
	"hint":     {positional: 1, values: []string{"step", "level"}},
	"reset":    {positional: 2},
}

// Args rewrites the arguments of the course's mage binary (os.Args[1:]) so
// that the forms a learner types work, although mage takes a target's
// optional arguments only as -name=value flags after its positional ones:
//
//	grade uts            ->  grade -lab=uts        (also progress, status, watch)
//	hint -step=2 uts     ->  hint uts -step=2
//	hint uts --step 2    ->  hint uts -step=2
//	reset -yes uts 02    ->  reset uts 02 -yes
//
// A missing positional word is passed as "" for the target to explain.
// A target's words end at the next target: a word in top (the top-level
// targets, in lower case) or one with a colon (lab:uts). Words it does not
// know what to do with are left where they are, for mage to report.
func Args(args []string, top []string) []string {
	isTarget := func(w string) bool {
		lw := strings.ToLower(w)
		return strings.Contains(w, ":") || contains(top, lw)
	}
	var out []string
	for i := 0; i < len(args); {
		target := args[i]
		out = append(out, target)
		i++
		spec, ok := specs[strings.ToLower(target)]
		if !ok {
			continue
		}
		var words, flags []string
		for i < len(args) && !isTarget(args[i]) {
			a := args[i]
			i++
			if !strings.HasPrefix(a, "-") || a == "-" {
				words = append(words, a)
				continue
			}
			a = "-" + strings.TrimLeft(a, "-")
			name := strings.ToLower(strings.TrimPrefix(a, "-"))
			if !strings.Contains(a, "=") && contains(spec.values, name) && i < len(args) && !isTarget(args[i]) && !strings.HasPrefix(args[i], "-") {
				a += "=" + args[i]
				i++
			}
			flags = append(flags, a)
		}
		if spec.labFlag && len(words) > 0 {
			flags = append([]string{"-lab=" + words[0]}, flags...)
			words = words[1:]
		}
		// Missing positional words become "": the target then says what
		// it needs, instead of mage's "not enough arguments".
		for len(words) < spec.positional {
			words = append(words, "")
		}
		n := spec.positional
		out = append(out, words[:n]...)
		out = append(out, flags...)
		out = append(out, words[n:]...)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
