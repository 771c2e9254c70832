package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong in a configuration: a value in the file (File,
// Line, Key) or in an environment variable (Env).
//
// Its Error reads, for the file, `roomcal.yaml:14: sites[0].rooms[2].capacity:
// must be a positive whole number, got "douze"`, and for the environment
// `ROOMCAL_SYNC_INTERVAL: must be a duration like 15m, 4h, 90d or 2w, got "often"`.
type Problem struct {
	File string // name of the configuration file
	Line int    // 1-based line in File; 0 when the problem has no single line
	Key  string // path of the key, like "sites[0].rooms[2].capacity"; may be empty
	Env  string // the environment variable the wrong value came from, if it did
	Msg  string // what is wrong, for a human
}

func (p *Problem) Error() string {
	var b strings.Builder
	switch {
	case p.Env != "":
		b.WriteString(p.Env)
	case p.Line > 0:
		fmt.Fprintf(&b, "%s:%d", p.File, p.Line)
	default:
		b.WriteString(p.File)
	}
	if p.Key != "" && p.Env == "" {
		b.WriteString(": ")
		b.WriteString(p.Key)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	return b.String()
}

// InvalidError is what Load, LoadFile and Parse return when the
// configuration is readable but wrong. It lists every problem found, the
// file's in line order, then the environment's; Error gives one per line.
type InvalidError struct {
	Problems []*Problem
}

func (e *InvalidError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives the problems to errors.Is and errors.As.
func (e *InvalidError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// problems collects what is wrong while a configuration is read.
type problems struct {
	file string
	list []*Problem
}

// at records a problem at a line of the file (0: the file as a whole).
func (ps *problems) at(line int, key, format string, args ...any) {
	ps.list = append(ps.list, &Problem{File: ps.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// env records a problem with the value of an environment variable.
func (ps *problems) env(name, key, format string, args ...any) {
	ps.list = append(ps.list, &Problem{Env: name, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil or an *InvalidError with the problems sorted: the file's
// by line (those without a line after them), then the environment's.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	rank := func(p *Problem) int {
		switch {
		case p.Env != "":
			return 1 << 30
		case p.Line == 0:
			return 1<<30 - 1
		}
		return p.Line
	}
	sort.SliceStable(ps.list, func(i, j int) bool { return rank(ps.list[i]) < rank(ps.list[j]) })
	return &InvalidError{Problems: ps.list}
}
