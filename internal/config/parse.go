package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/roomcal/roomcal/booking"
)

// This file walks the YAML tree (yaml.v3 nodes, so that every problem
// knows its line) and builds sites and rooms. It keeps going after a
// problem, so that one run reports everything wrong in the file.

// shape is what a mapping may contain.
type shape struct {
	keys  []string
	hints map[string]string // for keys that are not allowed here but are elsewhere
}

func topShape() shape {
	hints := map[string]string{
		"rooms":    "rooms are listed inside their site, under sites[].rooms",
		"hours":    "opening hours belong to a site (sites[].hours) or to a room",
		"timezone": "each site gives its own timezone",
	}
	for _, k := range settingKeys() {
		hints[k] = "server settings go under server:"
	}
	return shape{keys: []string{"server", "rules", "closures", "sites"}, hints: hints}
}

var (
	siteShape = shape{
		keys:  []string{"id", "name", "timezone", "hide_titles", "hours", "closures", "rules", "rooms"},
		hints: ruleHints(),
	}
	roomShape = shape{
		keys: []string{"id", "name", "capacity", "equipment", "calendar", "hours", "closures", "rules"},
		hints: mergeHints(ruleHints(), map[string]string{
			"site":     "a room belongs to the site it is listed under",
			"timezone": "a room is in its site's timezone",
			"rooms":    "rooms are listed under their site, not inside another room",
		}),
	}
	rulesShape = shape{keys: []string{"max_duration", "min_notice", "max_ahead", "buffer", "allowed_groups",
		"quota_scope", "quota_per_week", "quota_ahead", "quota_longest", "quota_exempt",
		"approvers", "approval_within", "checkin_within"}}
	closureShape = shape{keys: []string{"date", "from", "to", "reason"}}
)

func ruleHints() map[string]string {
	h := map[string]string{}
	for _, k := range rulesShape.keys {
		h[k] = "put it under rules:"
	}
	return h
}

func mergeHints(a, b map[string]string) map[string]string {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// fileSettings is the file's server section, for resolveSettings.
type fileSettings struct {
	server     map[string]fileValue // by key; blank values left out
	serverLine int                  // line of "server:", 0 when absent
}

// parseFile reads data into c.Sites and c.Rooms and returns its server
// settings, recording every problem in ps.
func parseFile(ps *problems, data []byte, c *Config) *fileSettings {
	fs := &fileSettings{server: map[string]fileValue{}}
	root, ok := decodeYAML(ps, data)
	if !ok {
		return fs
	}
	w := walker{ps: ps, misspelt: map[*yaml.Node]map[string]bool{}}
	top, ok := w.fields(root, "", topShape())
	if !ok {
		return fs
	}

	if e, ok := top["server"]; ok {
		fs.serverLine = e.key.Line
		w.server(e.val, fs)
	}
	global := w.rules(top["rules"].val, "rules")
	w.checkRules(global, booking.Rules{}, "rules", top["rules"].key)
	globalClosures := w.closures(top["closures"].val, "closures")

	sitesEntry, ok := top["sites"]
	if !ok {
		ps.at(0, "sites", "required: list at least one site")
		return fs
	}
	sites, ok := w.seq(sitesEntry.val, "sites")
	if ok && len(sites) == 0 {
		ps.at(sitesEntry.key.Line, "sites", "must list at least one site")
	}
	ids := uniques{ps: ps, what: "site id"}
	roomIDs := uniques{ps: ps, what: "room id"}
	calendars := uniques{ps: ps, what: "calendar"}
	for i, sn := range sites {
		path := fmt.Sprintf("sites[%d]", i)
		f, ok := w.fields(sn, path, siteShape)
		if !ok {
			continue
		}
		site := booking.Site{
			ID:   w.id(f, "id", sn, path),
			Name: w.name(f, sn, path),
		}
		ids.add(site.ID, f["id"], path+".id")
		site.Location = w.timezone(f, sn, path)
		site.HideTitles = w.boolean(f, "hide_titles", path)
		c.Sites = append(c.Sites, site)

		rules := w.rules(f["rules"].val, path+".rules")
		siteRules := rules.over(global.over(booking.Rules{}))
		w.checkRules(rules, global.over(booking.Rules{}), path+".rules", f["rules"].key)
		hours := w.hours(f["hours"].val, path+".hours")
		closures := append(slices.Clone(globalClosures), w.closures(f["closures"].val, path+".closures")...)

		rooms, _ := w.seq(f["rooms"].val, path+".rooms")
		for j, rn := range rooms {
			rpath := fmt.Sprintf("%s.rooms[%d]", path, j)
			rf, ok := w.fields(rn, rpath, roomShape)
			if !ok {
				continue
			}
			room := booking.Room{
				ID:       w.id(rf, "id", rn, rpath),
				SiteID:   site.ID,
				Name:     w.name(rf, rn, rpath),
				Capacity: w.capacity(rf, rn, rpath),
			}
			newID := roomIDs.add(room.ID, rf["id"], rpath+".id")
			if e, ok := rf["equipment"]; ok {
				room.Equipment = w.words(e.val, rpath+".equipment")
			}
			room.Calendar = room.ID
			if e, ok := rf["calendar"]; ok {
				if s, ok := w.str(e.val, rpath+".calendar"); ok {
					if err := checkCalendar(s); err != nil {
						ps.at(e.val.Line, rpath+".calendar", "%v", err)
					}
					room.Calendar = s
				}
			}
			if e, ok := rf["calendar"]; ok {
				calendars.add(room.Calendar, e, rpath+".calendar")
			} else if newID {
				calendars.add(room.Calendar, rf["id"], rpath+".calendar")
			}
			roomRules := w.rules(rf["rules"].val, rpath+".rules")
			room.Rules = roomRules.over(siteRules)
			w.checkRules(roomRules, siteRules, rpath+".rules", rf["rules"].key)
			roomHours := w.hours(rf["hours"].val, rpath+".hours")
			room.Hours = booking.OpeningHours{
				Weekly:   w.weekly(hours, roomHours, rn, rpath),
				Closures: sortClosures(append(slices.Clone(closures), w.closures(rf["closures"].val, rpath+".closures")...)),
			}
			c.Rooms = append(c.Rooms, room)
		}
	}
	return fs
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decodeYAML parses one YAML document and returns its root node.
func decodeYAML(ps *problems, data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) || (err == nil && (len(doc.Content) == 0 || isNull(doc.Content[0]))) {
		ps.at(0, "", "the file is empty: it needs at least a sites: section")
		return nil, false
	}
	if err != nil {
		msg, line := strings.TrimPrefix(err.Error(), "yaml: "), 0
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
			if strings.HasPrefix(msg, "did not find expected") {
				// yaml.v3 gives, 0-based, the line where the enclosing
				// list or mapping starts; the mistake is below it.
				line++
				msg += " in the part that starts here: check the indentation, quotes and brackets of the lines below"
			}
		}
		if tab := tabIndentedLine(data); tab > 0 {
			ps.at(tab, "", "not valid YAML: this line is indented with a tab; YAML allows only spaces")
			return nil, false
		}
		ps.at(line, "", "not valid YAML: %s", msg)
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		ps.at(extra.Line, "", "only one YAML document is allowed: remove the second \"---\"")
	}
	return doc.Content[0], true
}

// tabIndentedLine returns the first line whose indentation holds a tab, or 0.
func tabIndentedLine(data []byte) int {
	for i, l := range bytes.Split(data, []byte("\n")) {
		indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
		if bytes.ContainsRune(indent, '\t') {
			return i + 1
		}
	}
	return 0
}

type walker struct {
	ps *problems
	// misspelt holds, for each mapping, the known keys that an unknown
	// key was taken for ("did you mean"), so that a missing required key
	// is not reported a second time.
	misspelt map[*yaml.Node]map[string]bool
}

type entry struct{ key, val *yaml.Node }

// resolve follows aliases (*name) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

// describe names what a node is, for "got …" in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a group of key: value lines"
	case yaml.SequenceNode:
		return "a list"
	}
	return quoteValue(n)
}

// quoteValue shows a scalar as the admin wrote it: quoted when it is text.
func quoteValue(n *yaml.Node) string {
	if n.ShortTag() == "!!str" {
		return strconv.Quote(n.Value)
	}
	return n.Value
}

// entries returns a mapping's key/value pairs, with YAML merge keys
// ("<<: *defaults") applied and keys given twice reported. A null node is
// an empty mapping; anything else that is not a mapping is a problem (ok
// false).
func (w walker) entries(n *yaml.Node, path string) ([]entry, bool) {
	n = resolve(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		w.ps.at(n.Line, path, "must be a group of key: value lines, got %s", describe(n))
		return nil, false
	}
	var out, merged []entry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			srcs := []*yaml.Node{resolve(v)}
			if srcs[0].Kind == yaml.SequenceNode {
				srcs = srcs[0].Content
			}
			for _, src := range srcs {
				es, _ := w.entries(src, path)
				merged = append(merged, es...)
			}
			continue
		}
		if k.Kind != yaml.ScalarNode {
			w.ps.at(k.Line, path, "keys must be plain words, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			w.ps.at(k.Line, join(path, k.Value), "given twice (first at line %d)", first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, entry{k, v})
	}
	for _, e := range merged {
		if _, ok := seen[e.key.Value]; !ok {
			seen[e.key.Value] = e.key
			out = append(out, e)
		}
	}
	return out, true
}

// fields returns a mapping's entries by key, reporting keys the shape
// does not allow.
func (w walker) fields(n *yaml.Node, path string, sh shape) (map[string]entry, bool) {
	es, ok := w.entries(n, path)
	m := map[string]entry{}
	for _, e := range es {
		if !slices.Contains(sh.keys, e.key.Value) {
			w.unknown(resolve(n), e.key, path, sh)
			continue
		}
		m[e.key.Value] = e
	}
	return m, ok
}

func (w walker) unknown(mapping, k *yaml.Node, path string, sh shape) {
	msg := "unknown key"
	if s := closest(k.Value, sh.keys); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
		if w.misspelt[mapping] == nil {
			w.misspelt[mapping] = map[string]bool{}
		}
		w.misspelt[mapping][s] = true
	} else if h, ok := sh.hints[k.Value]; ok {
		msg += ": " + h
	} else {
		msg += " (known keys here: " + strings.Join(sh.keys, ", ") + ")"
	}
	w.ps.at(k.Line, join(path, k.Value), "%s", msg)
}

// seq returns the items of a list; a null node is an empty list.
func (w walker) seq(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = resolve(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		w.ps.at(n.Line, path, "must be a list (lines starting with \"- \"), got %s", describe(n))
		return nil, false
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, it := range n.Content {
		items[i] = resolve(it)
	}
	return items, true
}

// str returns a single value as trimmed text; null is "".
func (w walker) str(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if isNull(n) {
		return "", true
	}
	if n.Kind != yaml.ScalarNode {
		w.ps.at(n.Line, path, "must be a single value, got %s", describe(n))
		return "", false
	}
	return strings.TrimSpace(n.Value), true
}

// boolean reads an optional true/false key (false when absent).
func (w walker) boolean(f map[string]entry, key, path string) bool {
	e, ok := f[key]
	if !ok {
		return false
	}
	v, ok := w.str(e.val, path+"."+key)
	if !ok || v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		w.ps.at(e.val.Line, path+"."+key, "must be true or false, got %q", v)
	}
	return b
}

// required returns the text of a key that must be there and not blank.
func (w walker) required(f map[string]entry, key string, parent *yaml.Node, path string) (string, bool) {
	e, ok := f[key]
	if !ok {
		if !w.misspelt[resolve(parent)][key] {
			w.ps.at(parent.Line, join(path, key), "required")
		}
		return "", false
	}
	s, ok := w.str(e.val, join(path, key))
	if ok && s == "" {
		w.ps.at(e.key.Line, join(path, key), "must not be empty")
		return "", false
	}
	return s, ok
}

func (w walker) id(f map[string]entry, key string, parent *yaml.Node, path string) string {
	s, ok := w.required(f, key, parent, path)
	if ok {
		if err := checkID(s); err != nil {
			w.ps.at(f[key].val.Line, join(path, key), "%v", err)
		}
	}
	return s
}

func (w walker) name(f map[string]entry, parent *yaml.Node, path string) string {
	s, _ := w.required(f, "name", parent, path)
	return s
}

func (w walker) timezone(f map[string]entry, parent *yaml.Node, path string) *time.Location {
	s, ok := w.required(f, "timezone", parent, path)
	if !ok {
		return nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil || s == "Local" {
		w.ps.at(f["timezone"].val.Line, path+".timezone", "unknown time zone %q (use a name like Europe/Paris)", s)
		return nil
	}
	return loc
}

func (w walker) capacity(f map[string]entry, parent *yaml.Node, path string) int {
	e, ok := f["capacity"]
	if !ok {
		if !w.misspelt[resolve(parent)]["capacity"] {
			w.ps.at(parent.Line, path+".capacity", "required (how many people the room seats)")
		}
		return 0
	}
	v := resolve(e.val)
	if v.Kind == yaml.ScalarNode && !isNull(v) {
		if n, err := strconv.Atoi(strings.TrimSpace(v.Value)); err == nil && n > 0 {
			return n
		}
	}
	got := "nothing"
	if !isNull(v) {
		got = describe(v)
	}
	w.ps.at(v.Line, path+".capacity", "must be a positive whole number, got %s", got)
	return 0
}

// words reads a list of names, given as a YAML list or as one line
// separated by commas; blank items and items given twice are problems.
func (w walker) words(n *yaml.Node, path string) []string {
	n = resolve(n)
	var items []*yaml.Node
	var texts []string
	switch {
	case isNull(n):
		return []string{}
	case n.Kind == yaml.ScalarNode:
		for s := range strings.SplitSeq(n.Value, ",") {
			items, texts = append(items, n), append(texts, s)
		}
	default:
		seq, ok := w.seq(n, path)
		if !ok {
			return nil
		}
		for i, it := range seq {
			s, ok := w.str(it, fmt.Sprintf("%s[%d]", path, i))
			if ok {
				items, texts = append(items, it), append(texts, s)
			}
		}
	}
	out := []string{}
	for i, s := range texts {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			w.ps.at(items[i].Line, path, "has an empty item")
		case slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, s) }):
			w.ps.at(items[i].Line, path, "lists %q twice", s)
		default:
			out = append(out, s)
		}
	}
	return out
}

// server records the file's server settings; resolveSettings parses them.
func (w walker) server(n *yaml.Node, fs *fileSettings) {
	f, _ := w.fields(n, "server", shape{keys: settingKeys()})
	for _, key := range settingKeys() {
		e, ok := f[key]
		if !ok {
			continue
		}
		var s string
		v := resolve(e.val)
		if key == "trusted_proxies" && v.Kind == yaml.SequenceNode {
			s = strings.Join(w.words(v, "server.trusted_proxies"), ",")
		} else {
			var ok bool
			if s, ok = w.str(v, "server."+key); !ok {
				continue
			}
		}
		if strings.TrimSpace(s) != "" {
			fs.server[key] = fileValue{value: strings.TrimSpace(s), line: line(v)}
		}
	}
}

// partialRules is one level of rules: nil fields are not set there.
type partialRules struct {
	maxDuration, minNotice, maxAhead, buffer *time.Duration
	groups                                   *[]string

	quotaScope              *booking.QuotaScope
	quotaWeek, quotaLongest *time.Duration
	quotaAhead              *int
	quotaExempt             *[]string
	approvers               *[]string
	approvalWithin          *time.Duration
	checkInWithin           *time.Duration
}

// over returns base with the fields set in p replacing base's.
func (p partialRules) over(base booking.Rules) booking.Rules {
	r := base
	for _, f := range []struct {
		from *time.Duration
		to   *time.Duration
	}{{p.maxDuration, &r.MaxDuration}, {p.minNotice, &r.MinNotice}, {p.maxAhead, &r.MaxAhead}, {p.buffer, &r.Buffer},
		{p.quotaWeek, &r.Quota.PerWeek}, {p.quotaLongest, &r.Quota.Longest}, {p.approvalWithin, &r.ApprovalWithin}, {p.checkInWithin, &r.CheckInWithin}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	if p.groups != nil {
		r.AllowedGroups = slices.Clone(*p.groups)
	}
	if len(r.AllowedGroups) == 0 {
		r.AllowedGroups = nil
	}
	if p.quotaScope != nil {
		r.Quota.Scope = *p.quotaScope
	}
	if p.quotaAhead != nil {
		r.Quota.Ahead = *p.quotaAhead
	}
	if p.quotaExempt != nil {
		r.Quota.Exempt = slices.Clone(*p.quotaExempt)
	}
	if len(r.Quota.Exempt) == 0 {
		r.Quota.Exempt = nil
	}
	if p.approvers != nil {
		r.Approvers = slices.Clone(*p.approvers)
	}
	if len(r.Approvers) == 0 {
		r.Approvers = nil
	}
	return r
}

func (w walker) rules(n *yaml.Node, path string) partialRules {
	var p partialRules
	f, _ := w.fields(n, path, rulesShape)
	for _, d := range []struct {
		key string
		dst **time.Duration
	}{{"max_duration", &p.maxDuration}, {"min_notice", &p.minNotice}, {"max_ahead", &p.maxAhead}, {"buffer", &p.buffer},
		{"quota_per_week", &p.quotaWeek}, {"quota_longest", &p.quotaLongest}, {"approval_within", &p.approvalWithin}, {"checkin_within", &p.checkInWithin}} {
		key, dst := d.key, d.dst
		e, ok := f[key]
		if !ok {
			continue
		}
		s, ok := w.str(e.val, join(path, key))
		if !ok {
			continue
		}
		d, err := parseDuration(s)
		if err != nil {
			w.ps.at(line(resolve(e.val)), join(path, key), "%v", err)
			continue
		}
		*dst = &d
	}
	if e, ok := f["allowed_groups"]; ok {
		groups := w.words(e.val, join(path, "allowed_groups"))
		p.groups = &groups
	}
	if e, ok := f["quota_exempt"]; ok {
		groups := w.words(e.val, join(path, "quota_exempt"))
		p.quotaExempt = &groups
	}
	if e, ok := f["approvers"]; ok {
		groups := w.words(e.val, join(path, "approvers"))
		p.approvers = &groups
	}
	if e, ok := f["quota_scope"]; ok {
		if s, ok := w.str(e.val, join(path, "quota_scope")); ok {
			switch sc := booking.QuotaScope(strings.TrimSpace(s)); sc {
			case booking.ScopeRoom, booking.ScopeSite:
				p.quotaScope = &sc
			default:
				w.ps.at(line(resolve(e.val)), join(path, "quota_scope"), "must be room or site, got %q", s)
			}
		}
	}
	if e, ok := f["quota_ahead"]; ok {
		v := resolve(e.val)
		n, err := strconv.Atoi(strings.TrimSpace(v.Value))
		if s := strings.TrimSpace(v.Value); s == "none" {
			n, err = 0, nil
		}
		if v.Kind != yaml.ScalarNode || err != nil || n < 0 {
			w.ps.at(v.Line, join(path, "quota_ahead"), "must be a whole number of bookings (0 or none: no limit), got %s", describe(v))
		} else {
			p.quotaAhead = &n
		}
	}
	return p
}

// checkRules reports rules under which nothing can be booked, at the level
// (global, site or room) where the contradiction appears.
func (w walker) checkRules(p partialRules, parent booking.Rules, path string, key *yaml.Node) {
	bad := func(r booking.Rules) bool { return r.MaxAhead > 0 && r.MinNotice >= r.MaxAhead }
	r := p.over(parent)
	if bad(r) && !bad(parent) {
		w.ps.at(line(key), path, "min_notice (%s) must be shorter than max_ahead (%s): nothing could ever be booked",
			formatDuration(r.MinNotice), formatDuration(r.MaxAhead))
	}
}

// partialHours is one level of opening hours: the days it sets, an empty
// (non-nil) list meaning closed.
type partialHours map[time.Weekday][]booking.TimeRange

func (w walker) hours(n *yaml.Node, path string) partialHours {
	es, _ := w.entries(n, path)
	out := partialHours{}
	setBy := map[time.Weekday]*yaml.Node{}
	for _, e := range es {
		kpath := join(path, e.key.Value)
		days, err := parseDays(e.key.Value)
		if err != nil {
			w.ps.at(e.key.Line, kpath, "%v", err)
			continue
		}
		ranges, ok := w.ranges(e.val, kpath)
		for _, d := range days {
			if first, dup := setBy[d]; dup {
				w.ps.at(e.key.Line, kpath, "%s is already given by %q (line %d)", dayNames[d], first.Value, first.Line)
				continue
			}
			setBy[d] = e.key
			if ok {
				out[d] = ranges
			}
		}
	}
	return out
}

// ranges reads the value of one day: "closed", "08:00-20:00",
// "08:00-12:00, 14:00-18:00" or a list of ranges.
func (w walker) ranges(n *yaml.Node, path string) ([]booking.TimeRange, bool) {
	n = resolve(n)
	var texts []string
	var lines []int
	switch {
	case isNull(n):
		w.ps.at(n.Line, path, "needs hours like \"08:00-20:00\", or closed")
		return nil, false
	case n.Kind == yaml.ScalarNode:
		if strings.EqualFold(strings.TrimSpace(n.Value), "closed") {
			return []booking.TimeRange{}, true
		}
		for s := range strings.SplitSeq(n.Value, ",") {
			texts, lines = append(texts, s), append(lines, n.Line)
		}
	default:
		seq, ok := w.seq(n, path)
		if !ok {
			return nil, false
		}
		for i, it := range seq {
			s, ok := w.str(it, fmt.Sprintf("%s[%d]", path, i))
			if !ok {
				return nil, false
			}
			texts, lines = append(texts, s), append(lines, it.Line)
		}
	}
	out := []booking.TimeRange{}
	ok := true
	for i, s := range texts {
		if strings.EqualFold(strings.TrimSpace(s), "closed") {
			w.ps.at(lines[i], path, "closed cannot be combined with hours")
			ok = false
			continue
		}
		r, err := parseRange(s)
		if err != nil {
			w.ps.at(lines[i], path, "%v", err)
			ok = false
			continue
		}
		out = append(out, r)
	}
	if !ok {
		return nil, false
	}
	slices.SortFunc(out, func(a, b booking.TimeRange) int { return int(a.From - b.From) })
	for i := 1; i < len(out); i++ {
		if out[i].From < out[i-1].To {
			w.ps.at(n.Line, path, "ranges %s-%s and %s-%s overlap", out[i-1].From, out[i-1].To, out[i].From, out[i].To)
			return nil, false
		}
	}
	return out, true
}

// weekly merges a site's hours and a room's, day by day, into the form
// booking.OpeningHours wants: nil when neither gives any (open around the
// clock), else only the open days (a missing day is closed).
func (w walker) weekly(site, room partialHours, roomNode *yaml.Node, path string) map[time.Weekday][]booking.TimeRange {
	merged := map[time.Weekday][]booking.TimeRange{}
	for d, rs := range site {
		merged[d] = rs
	}
	for d, rs := range room {
		merged[d] = rs
	}
	if len(merged) == 0 {
		return nil
	}
	out := map[time.Weekday][]booking.TimeRange{}
	for d, rs := range merged {
		if len(rs) > 0 {
			out[d] = slices.Clone(rs)
		}
	}
	if len(out) == 0 {
		w.ps.at(roomNode.Line, path+".hours", "the room is never open: list the days it is open (days not listed are closed)")
		return nil
	}
	return out
}

func (w walker) closures(n *yaml.Node, path string) []booking.Closure {
	items, _ := w.seq(n, path)
	var out []booking.Closure
	for i, it := range items {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		if it.Kind == yaml.ScalarNode && !isNull(it) {
			d, err := parseDate(it.Value)
			if err != nil {
				w.ps.at(it.Line, ipath, "%v", err)
				continue
			}
			out = append(out, booking.Closure{From: d, To: d})
			continue
		}
		f, ok := w.fields(it, ipath, closureShape)
		if !ok {
			continue
		}
		date := func(key string) (booking.Date, bool) {
			s, ok := w.str(f[key].val, join(ipath, key))
			if !ok {
				return booking.Date{}, false
			}
			d, err := parseDate(s)
			if err != nil {
				w.ps.at(line(resolve(f[key].val)), join(ipath, key), "%v", err)
				return booking.Date{}, false
			}
			return d, true
		}
		var c booking.Closure
		_, hasDate := f["date"]
		_, hasFrom := f["from"]
		_, hasTo := f["to"]
		switch {
		case hasDate && (hasFrom || hasTo):
			w.ps.at(it.Line, ipath, "give either date: (one day) or from: and to:, not both")
			continue
		case hasDate:
			d, ok := date("date")
			if !ok {
				continue
			}
			c.From, c.To = d, d
		case hasFrom:
			from, ok := date("from")
			to := from
			if hasTo {
				var okTo bool
				to, okTo = date("to")
				ok = ok && okTo
			}
			if !ok {
				continue
			}
			if dateBefore(to, from) {
				w.ps.at(line(resolve(f["to"].val)), join(ipath, "to"), "%s is before from: %s", to, from)
				continue
			}
			c.From, c.To = from, to
		default:
			w.ps.at(it.Line, ipath, "needs date: (one day) or from: (and to: for several days)")
			continue
		}
		if e, ok := f["reason"]; ok {
			c.Reason, _ = w.str(e.val, join(ipath, "reason"))
		}
		out = append(out, c)
	}
	return out
}

func sortClosures(cs []booking.Closure) []booking.Closure {
	slices.SortStableFunc(cs, func(a, b booking.Closure) int {
		switch {
		case dateBefore(a.From, b.From):
			return -1
		case dateBefore(b.From, a.From):
			return 1
		}
		return 0
	})
	return cs
}

// uniques reports values given twice, with the line of the first.
type uniques struct {
	ps   *problems
	what string
	seen map[string]int
}

func (u *uniques) add(v string, e entry, path string) (isNew bool) {
	if v == "" {
		return false
	}
	if u.seen == nil {
		u.seen = map[string]int{}
	}
	l := line(e.val)
	if first, dup := u.seen[v]; dup {
		u.ps.at(l, path, "%s %q is already used at line %d", u.what, v, first)
		return false
	}
	u.seen[v] = l
	return true
}
