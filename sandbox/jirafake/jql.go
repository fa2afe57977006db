package jirafake

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is a small JQL engine: enough of the language for what okrd
// sends and what a user writes in a count or epic query (clauses joined by
// AND, OR, NOT and parentheses; =, !=, >, >=, <, <=, IN, NOT IN, IS EMPTY;
// ORDER BY), over the fields the fake knows. Like Jira it rejects unknown
// fields and malformed input with a message, and reads date literals in the
// user's time zone with minute precision.

// jqlQuery is a parsed query.
type jqlQuery struct {
	where node // nil: no restriction (an unbounded query)
	order []orderBy
}

type orderBy struct {
	field string
	desc  bool
}

// node is a boolean expression over an issue.
type node interface {
	eval(s *Server, is *Issue) bool
}

type andNode struct{ l, r node }
type orNode struct{ l, r node }
type notNode struct{ n node }

func (n andNode) eval(s *Server, is *Issue) bool { return n.l.eval(s, is) && n.r.eval(s, is) }
func (n orNode) eval(s *Server, is *Issue) bool  { return n.l.eval(s, is) || n.r.eval(s, is) }
func (n notNode) eval(s *Server, is *Issue) bool { return !n.n.eval(s, is) }

// clause is `field op values`.
type clause struct {
	field  string
	op     string // =, !=, >, >=, <, <=, in, not in, is, is not
	values []string
	times  []time.Time // parsed values of date fields
	filter *jqlQuery   // the saved filter of `filter = id`
}

type token struct {
	kind string // word, string, op, (, ), ,
	text string
}

var jqlOps = []string{"!=", ">=", "<=", "=", ">", "<", "~"}

func lexJQL(q string) ([]token, error) {
	var toks []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, token{kind: string(c), text: string(c)})
			i++
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for ; j < len(q) && q[j] != c; j++ {
				if q[j] == '\\' && j+1 < len(q) {
					j++
				}
				b.WriteByte(q[j])
			}
			if j >= len(q) {
				return nil, fmt.Errorf("Error in the JQL Query: The quoted string '%s' has not been completed.", q[i:])
			}
			toks = append(toks, token{kind: "string", text: b.String()})
			i = j + 1
		default:
			matched := false
			for _, op := range jqlOps {
				if strings.HasPrefix(q[i:], op) {
					toks = append(toks, token{kind: "op", text: op})
					i += len(op)
					matched = true
					break
				}
			}
			if matched {
				continue
			}
			j := i
			for j < len(q) && !strings.ContainsRune(" \t\r\n(),=!<>~\"'", rune(q[j])) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("Error in the JQL Query: The character '%c' is a reserved JQL character.", c)
			}
			toks = append(toks, token{kind: "word", text: q[i:j]})
			i = j
		}
	}
	return toks, nil
}

type jqlParser struct {
	s    *Server
	toks []token
	pos  int
	// depth guards against filters that refer to themselves.
	depth int
}

func (p *jqlParser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{}
}

func (p *jqlParser) next() token {
	t := p.peek()
	p.pos++
	return t
}

func (p *jqlParser) keyword(words ...string) bool {
	for i, w := range words {
		if p.pos+i >= len(p.toks) {
			return false
		}
		t := p.toks[p.pos+i]
		if t.kind != "word" || !strings.EqualFold(t.text, w) {
			return false
		}
	}
	return true
}

// parseJQL parses a query. The Server resolves `filter = id` clauses.
func (s *Server) parseJQL(q string, depth int) (*jqlQuery, error) {
	if depth > 3 {
		return nil, fmt.Errorf("Filters refer to each other too deeply.")
	}
	toks, err := lexJQL(q)
	if err != nil {
		return nil, err
	}
	p := &jqlParser{s: s, toks: toks, depth: depth}
	out := &jqlQuery{}
	if len(toks) > 0 && !p.keyword("order", "by") {
		out.where, err = p.or()
		if err != nil {
			return nil, err
		}
	}
	if p.keyword("order", "by") {
		p.pos += 2
		for {
			f := p.next()
			if f.kind != "word" && f.kind != "string" {
				return nil, fmt.Errorf("Error in the JQL Query: Expecting a field name after 'order by'.")
			}
			name := strings.ToLower(f.text)
			if _, ok := orderFields[name]; !ok {
				return nil, fmt.Errorf("Not able to sort using field '%s'.", f.text)
			}
			ob := orderBy{field: orderFields[name]}
			if p.keyword("desc") {
				ob.desc = true
				p.pos++
			} else if p.keyword("asc") {
				p.pos++
			}
			out.order = append(out.order, ob)
			if p.peek().kind != "," {
				break
			}
			p.pos++
		}
		if len(out.order) > 7 {
			return nil, fmt.Errorf("The ORDER BY clause may use at most 7 fields.")
		}
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("Error in the JQL Query: Expecting either 'OR' or 'AND' but got '%s'.", p.peek().text)
	}
	return out, nil
}

func (p *jqlParser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *jqlParser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		p.pos++
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *jqlParser) unary() (node, error) {
	if p.keyword("not") {
		p.pos++
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	if p.peek().kind == "(" {
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next().kind != ")" {
			return nil, fmt.Errorf("Error in the JQL Query: Expecting ')'.")
		}
		return n, nil
	}
	return p.clause()
}

// jqlFields maps the field names the fake knows to their canonical names.
var jqlFields = map[string]string{
	"project": "project", "key": "key", "issuekey": "key", "id": "key",
	"issuetype": "type", "type": "type", "status": "status", "statuscategory": "statuscategory",
	"created": "created", "createddate": "created", "updated": "updated", "updateddate": "updated",
	"resolutiondate": "resolved", "resolved": "resolved", "labels": "labels", "parent": "parent",
	"epic link": "epic", "sprint": "sprint", "filter": "filter", "summary": "summary", "text": "summary",
}

var orderFields = map[string]string{
	"created": "created", "updated": "updated", "key": "key", "issuekey": "key", "rank": "rank",
	"resolutiondate": "resolved", "resolved": "resolved", "id": "key",
}

var dateFields = map[string]bool{"created": true, "updated": true, "resolved": true}

func (p *jqlParser) clause() (node, error) {
	f := p.next()
	if f.kind != "word" && f.kind != "string" {
		return nil, fmt.Errorf("Error in the JQL Query: Expecting a field name but got '%s'.", f.text)
	}
	field, ok := jqlFields[strings.ToLower(f.text)]
	if !ok {
		if strings.HasPrefix(strings.ToLower(f.text), "cf[") || strings.HasPrefix(strings.ToLower(f.text), "customfield_") {
			field = strings.ToLower(f.text)
		} else {
			return nil, fmt.Errorf("Field '%s' does not exist or you do not have permission to view it.", f.text)
		}
	}
	c := &clause{field: field}
	switch t := p.next(); {
	case t.kind == "op":
		c.op = t.text
	case t.kind == "word" && strings.EqualFold(t.text, "in"):
		c.op = "in"
	case t.kind == "word" && strings.EqualFold(t.text, "not") && p.keyword("in"):
		p.pos++
		c.op = "not in"
	case t.kind == "word" && strings.EqualFold(t.text, "is"):
		c.op = "is"
		if p.keyword("not") {
			p.pos++
			c.op = "is not"
		}
	default:
		return nil, fmt.Errorf("Error in the JQL Query: Expecting operator but got '%s'.", t.text)
	}
	if c.op == "in" || c.op == "not in" {
		if p.next().kind != "(" {
			return nil, fmt.Errorf("Error in the JQL Query: Expecting '(' after '%s'.", c.op)
		}
		for {
			v := p.next()
			if v.kind != "word" && v.kind != "string" {
				return nil, fmt.Errorf("Error in the JQL Query: Expecting a value in the list.")
			}
			c.values = append(c.values, v.text)
			sep := p.next()
			if sep.kind == ")" {
				break
			}
			if sep.kind != "," {
				return nil, fmt.Errorf("Error in the JQL Query: Expecting ',' or ')' in the list.")
			}
		}
	} else {
		v := p.next()
		if v.kind != "word" && v.kind != "string" {
			return nil, fmt.Errorf("Error in the JQL Query: Expecting either a value, list or function but got '%s'.", v.text)
		}
		c.values = []string{v.text}
	}
	if c.op == "is" || c.op == "is not" {
		if !strings.EqualFold(c.values[0], "empty") && !strings.EqualFold(c.values[0], "null") {
			return nil, fmt.Errorf("The operator '%s' only supports EMPTY or NULL.", c.op)
		}
	}
	if dateFields[field] && c.op != "is" && c.op != "is not" {
		for _, v := range c.values {
			t, err := p.s.parseJQLDate(v)
			if err != nil {
				return nil, fmt.Errorf("Date value '%s' for field '%s' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.", v, f.text)
			}
			c.times = append(c.times, t)
		}
	}
	if field == "filter" {
		if c.op != "=" && c.op != "in" {
			return nil, fmt.Errorf("The operator '%s' is not supported by the 'filter' field.", c.op)
		}
		id, err := strconv.Atoi(c.values[0])
		if err != nil {
			return nil, fmt.Errorf("The value '%s' does not exist for the field 'filter'.", c.values[0])
		}
		jql, ok := p.s.filters[id]
		if !ok {
			return nil, fmt.Errorf("The value '%s' does not exist for the field 'filter'.", c.values[0])
		}
		sub, err := p.s.parseJQL(jql, p.depth+1)
		if err != nil {
			return nil, err
		}
		c.filter = sub
	}
	return c, nil
}

var relDate = regexp.MustCompile(`^([-+]?)((\d+[wdhm]\s*)+)$`)
var relPart = regexp.MustCompile(`(\d+)([wdhm])`)

// parseJQLDate reads a JQL date literal in the user's time zone.
func (s *Server) parseJQLDate(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04", "2006/01/02 15:04", "2006-01-02", "2006/01/02"} {
		if t, err := time.ParseInLocation(layout, v, s.loc); err == nil {
			return t, nil
		}
	}
	if m := relDate.FindStringSubmatch(strings.TrimSpace(v)); m != nil {
		var d time.Duration
		for _, part := range relPart.FindAllStringSubmatch(m[2], -1) {
			n, _ := strconv.Atoi(part[1])
			unit := map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute}[part[2]]
			d += time.Duration(n) * unit
		}
		if m[1] == "-" {
			d = -d
		}
		return s.now().Add(d), nil
	}
	return time.Time{}, fmt.Errorf("bad date")
}

func (c *clause) eval(s *Server, is *Issue) bool {
	if c.filter != nil {
		ok := c.filter.where == nil || c.filter.where.eval(s, is)
		return ok
	}
	if dateFields[c.field] {
		var t *time.Time
		switch c.field {
		case "created":
			t = &is.Created
		case "updated":
			t = &is.Updated
		case "resolved":
			t = is.Resolved
		}
		switch c.op {
		case "is":
			return t == nil
		case "is not":
			return t != nil
		}
		if t == nil {
			return false
		}
		// The literal has minute precision (in the user's time zone); the
		// stored time is compared as it is.
		tm := *t
		switch c.op {
		case "=":
			return tm.Equal(c.times[0])
		case "!=":
			return !tm.Equal(c.times[0])
		case ">":
			return tm.After(c.times[0])
		case ">=":
			return !tm.Before(c.times[0])
		case "<":
			return tm.Before(c.times[0])
		case "<=":
			return !tm.After(c.times[0])
		}
		return false
	}
	vals := s.fieldValues(c.field, is)
	switch c.op {
	case "is":
		return len(vals) == 0
	case "is not":
		return len(vals) > 0
	case "=", "in", "~":
		return anyMatch(vals, c.values)
	case "!=", "not in":
		return len(vals) > 0 && !anyMatch(vals, c.values)
	case ">", ">=", "<", "<=":
		// Keys compare by project and number (key > PAY-10).
		if c.field != "key" || len(vals) == 0 {
			return false
		}
		cmp := compareKeys(vals[0], c.values[0])
		switch c.op {
		case ">":
			return cmp > 0
		case ">=":
			return cmp >= 0
		case "<":
			return cmp < 0
		default:
			return cmp <= 0
		}
	}
	return false
}

func anyMatch(have, want []string) bool {
	for _, w := range want {
		for _, h := range have {
			if strings.EqualFold(h, w) {
				return true
			}
		}
	}
	return false
}

// fieldValues returns the values of a field that a clause may match: for
// a status its name and id, for a project its key, id and name, and so on.
func (s *Server) fieldValues(field string, is *Issue) []string {
	switch field {
	case "project":
		p := s.projects[is.Project]
		return []string{is.Project, p.ID, p.Name}
	case "key":
		return []string{is.Key, is.ID}
	case "type":
		return []string{is.Type}
	case "status":
		st := s.statuses[is.Status]
		return []string{st.Name, st.ID}
	case "statuscategory":
		st := s.statuses[is.Status]
		cat := categories[st.Category]
		return []string{cat.Name, strconv.Itoa(cat.ID), st.Category}
	case "labels":
		return is.Labels
	case "parent":
		if is.Parent == "" {
			return nil
		}
		return []string{is.Parent}
	case "epic":
		if is.EpicLink == "" {
			return nil
		}
		return []string{is.EpicLink}
	case "sprint":
		var out []string
		for _, id := range is.Sprints {
			out = append(out, strconv.Itoa(id))
			if sp, ok := s.sprints[id]; ok {
				out = append(out, sp.Name)
			}
		}
		return out
	case "summary":
		return []string{is.Summary}
	}
	if v, ok := is.Custom[field]; ok && v != nil {
		return []string{fmt.Sprint(v)}
	}
	return nil
}

// compareKeys orders issue keys by project, then number.
func compareKeys(a, b string) int {
	pa, na := splitKey(a)
	pb, nb := splitKey(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	return na - nb
}

func splitKey(k string) (string, int) {
	i := strings.LastIndexByte(k, '-')
	if i < 0 {
		return k, 0
	}
	n, _ := strconv.Atoi(k[i+1:])
	return strings.ToUpper(k[:i]), n
}

// sortIssues orders issues by the query's ORDER BY (Jira's default is by
// key, newest first, when none is given).
func sortIssues(issues []*Issue, order []orderBy) {
	if len(order) == 0 {
		order = []orderBy{{field: "key", desc: true}}
	}
	slices.SortStableFunc(issues, func(a, b *Issue) int {
		for _, o := range order {
			var c int
			switch o.field {
			case "created":
				c = a.Created.Compare(b.Created)
			case "updated":
				c = a.Updated.Compare(b.Updated)
			case "resolved":
				c = compareTimePtr(a.Resolved, b.Resolved)
			case "rank":
				c = a.Rank - b.Rank
			default:
				c = compareKeys(a.Key, b.Key)
			}
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
}

func compareTimePtr(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}
