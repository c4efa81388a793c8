package lab

// ErrText is err's text, "" for nil: errors cross from a step's run half
// (or a lab's child) to the harness as strings, in JSON reports.
func ErrText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
