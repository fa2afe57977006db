package httpjson

import (
	"text/template"
	"text/template/parse"
)

// Whether a request depends on the instant. A key result's request can
// be sent for a past instant t by rendering its templates with .Now = t
// (and .WindowStart = t minus the window); the answer is then its value
// at t, provided the request asks the API about the dates it was given.
// A request whose templates never read .Now or .WindowStart asks the same
// thing at every instant: its answer is today's number, which must not be
// filled in as the value of every past day. usesInstant decides from the
// parsed templates, following the values through pipelines, variables
// and the dot of with, range and template; .PeriodStart and .PeriodEnd
// are the same at every instant of a period, and none of the template
// functions (date, unix, json, text/template's own) reads a clock.

// dep is what a value of a template depends on.
type dep int

const (
	static  dep = iota // the same at every instant
	root               // the template's data as a whole, which holds .Now
	instant            // a value that depends on the instant
)

// instantFields are the fields of templateData that depend on the
// instant.
var instantFields = map[string]bool{"Now": true, "WindowStart": true}

// usesInstant reports whether what t renders depends on the instant.
func usesInstant(t *template.Template) bool {
	if t == nil || t.Tree == nil {
		return false
	}
	a := &instantAnalysis{tmpl: t, vars: map[string]dep{"$": root}, visiting: map[string]bool{}}
	// A variable may be used before the assignment that makes it depend
	// on the instant ({{ range }} loops, {{ $x = ... }}): walk again
	// until the variables no longer change.
	for {
		a.changed, a.uses = false, false
		a.node(t.Tree.Root, root)
		if !a.changed {
			return a.uses
		}
	}
}

type instantAnalysis struct {
	tmpl     *template.Template
	vars     map[string]dep
	visiting map[string]bool
	changed  bool
	uses     bool
}

func (a *instantAnalysis) node(n parse.Node, dot dep) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			a.node(c, dot)
		}
	case *parse.ActionNode:
		// Printing the data as a whole prints .Now too.
		if v := a.pipe(n.Pipe, dot); len(n.Pipe.Decl) == 0 && v != static {
			a.uses = true
		}
	case *parse.IfNode:
		a.branch(&n.BranchNode, dot, false)
	case *parse.WithNode:
		a.branch(&n.BranchNode, dot, true)
	case *parse.RangeNode:
		a.branch(&n.BranchNode, dot, true)
	case *parse.TemplateNode:
		v := static
		if n.Pipe != nil {
			v = a.pipe(n.Pipe, dot)
		}
		if t := a.tmpl.Lookup(n.Name); t != nil && t.Tree != nil && !a.visiting[n.Name] {
			a.visiting[n.Name] = true
			a.node(t.Tree.Root, v)
			delete(a.visiting, n.Name)
		}
	}
}

// branch walks an if, with or range: a condition that depends on the
// instant decides what is rendered; with and range set the dot of their
// body to the pipeline's value.
func (a *instantAnalysis) branch(b *parse.BranchNode, dot dep, setsDot bool) {
	v := a.pipe(b.Pipe, dot)
	if v == instant {
		a.uses = true
	}
	inner := dot
	if setsDot {
		inner = v
	}
	a.node(b.List, inner)
	a.node(b.ElseList, dot)
}

// pipe returns what a pipeline's value depends on, and records the
// variables it declares or assigns.
func (a *instantAnalysis) pipe(p *parse.PipeNode, dot dep) dep {
	if p == nil {
		return static
	}
	v := static
	for i, cmd := range p.Cmds {
		v = a.command(cmd, dot, v, i > 0)
	}
	for _, d := range p.Decl {
		if name := d.Ident[0]; v > a.vars[name] {
			a.vars[name] = v
			a.changed = true
		}
	}
	return v
}

// command returns what a command's value depends on; prior is the value
// the pipeline passes it as its last argument (piped).
func (a *instantAnalysis) command(cmd *parse.CommandNode, dot, prior dep, piped bool) dep {
	v := static
	call := piped || len(cmd.Args) > 1
	for i, arg := range cmd.Args {
		if _, fn := arg.(*parse.IdentifierNode); fn && i == 0 {
			call = true
			continue
		}
		v = max(v, a.operand(arg, dot))
	}
	if piped {
		v = max(v, prior)
	}
	// A function or method given the data as a whole sees .Now.
	if call && v == root {
		v = instant
	}
	return v
}

// operand returns what an operand's value depends on.
func (a *instantAnalysis) operand(n parse.Node, dot dep) dep {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return field(dot, n.Ident)
	case *parse.VariableNode:
		return field(a.vars[n.Ident[0]], n.Ident[1:])
	case *parse.ChainNode:
		return field(a.operand(n.Node, dot), n.Field)
	case *parse.PipeNode:
		return a.pipe(n, dot)
	}
	// Literals and function names.
	return static
}

// field returns what base.f0.f1... depends on.
func field(base dep, fields []string) dep {
	if len(fields) == 0 || base != root {
		return base
	}
	if instantFields[fields[0]] {
		return instant
	}
	return static
}
