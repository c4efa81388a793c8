package lab

// ErrText is err's text, "" for nil: errors cross from a step's run half
// (or a lab's child) to the harness as strings, in JSON reports.
func ErrText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Or is s, or empty when s is "": the way a check narrates a report's
// error text, Or(r.Err, "nil"), where no error was returned.
func Or(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}
