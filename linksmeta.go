package recstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// This file keeps the links and meta objects of resources and of their
// relationships. They are kept as the JSON text the push carried (a copy),
// not as maps: text costs one byte per byte of the document, a decoded
// map[string]any up to twenty, and every reader decodes its own maps, so
// no reader shares one with the Store or with another reader. They are
// kept per entry in a map of the table (table.more), not in versions:
// most records have none, and a version's size is paid by every record on
// every push (eight more bytes cost up to 11% of the bytes a push of
// small records allocates). A commit publishes a record's new links and
// meta with its version, between the two increments of Store.seq, so
// readers that read both inside Store.consistent see them in step.

// more is what a resource and its relationships carried besides
// attributes and data: links and meta, as JSON objects. A published more
// is never written again.
type more struct {
	linksMeta
	rels []relMore // relationships that carried links or meta, in no order
}

// linksMeta holds one links and one meta object as JSON text; "" means
// none. A push that carries one replaces it; null counts as absent.
type linksMeta struct {
	links, meta string
}

// relMore is the links and meta of relationship ri.
type relMore struct {
	linksMeta
	ri int32
}

// rel returns the links and meta of relationship ri.
func (m *more) rel(ri int) linksMeta {
	if m == nil {
		return linksMeta{}
	}
	for i := range m.rels {
		if int(m.rels[i].ri) == ri {
			return m.rels[i].linksMeta
		}
	}
	return linksMeta{}
}

// over returns lm with the objects that next carries put in place of its
// own.
func (lm linksMeta) over(next linksMeta) linksMeta {
	if next.links != "" {
		lm.links = next.links
	}
	if next.meta != "" {
		lm.meta = next.meta
	}
	return lm
}

// merge returns a new more: old with what next carries put over it.
func mergeMore(old, next *more) *more {
	if old == nil {
		return next
	}
	m := &more{linksMeta: old.linksMeta.over(next.linksMeta)}
	m.rels = make([]relMore, len(old.rels), len(old.rels)+len(next.rels))
	copy(m.rels, old.rels)
	for _, nr := range next.rels {
		found := false
		for i := range m.rels {
			if m.rels[i].ri == nr.ri {
				m.rels[i].linksMeta = m.rels[i].linksMeta.over(nr.linksMeta)
				found = true
				break
			}
		}
		if !found {
			m.rels = append(m.rels, nr)
		}
	}
	return m
}

// stagedAt names a staged resource by its place in the document: its
// section and its index there (0 for a single data resource).
type stagedAt struct {
	incl bool
	idx  int32
}

func posOf(st *staged) stagedAt { return stagedAt{st.inIncl, max(st.idx, 0)} }

// moreOf returns the links and meta of the staged resource st, making
// them on first use. They are kept beside the staged resources, in a map
// the commit reads, so that a push carrying none costs nothing.
func (p *parser) moreOf(st *staged) *more {
	pos := posOf(st)
	m := p.more[pos]
	if m == nil {
		if p.more == nil {
			p.more = map[stagedAt]*more{}
		}
		m = &more{}
		p.more[pos] = m
	}
	return m
}

// addRelMore records that relationship ri of st carried links or meta.
func (p *parser) addRelMore(st *staged, ri int, lm linksMeta) {
	if lm == (linksMeta{}) {
		return
	}
	m := p.moreOf(st)
	m.rels = append(m.rels, relMore{linksMeta: lm, ri: int32(ri)})
}

// setMore puts the links and meta the staged resource st carried, if
// any, over those of its draft d. Called by apply, under Store.mu, for
// pushes that carry some.
func (c *commit) setMore(d *draft, st *staged) {
	m := c.staged[posOf(st)]
	if m == nil {
		return
	}
	old, ok := c.more[d]
	if !ok && d.base != nil && d.base.val != nil {
		old = d.t.moreOf(d.e) // a record known only by reference has none
	}
	if c.more == nil {
		c.more = map[*draft]*more{}
	}
	c.more[d] = mergeMore(old, m)
}

// publishMore publishes d's new links and meta, or forgets those of a
// record being unloaded. Called by publish, under Store.mu, while
// Store.seq is odd.
func (c *commit) publishMore(d *draft) {
	t := d.t
	if d.drop {
		t.more.Delete(d.e)
		return
	}
	if m, ok := c.more[d]; ok {
		t.hasMore.Store(true)
		t.more.Store(d.e, m)
	}
}

// moreOf returns the links and meta of e's record as last published, or
// nil. e may be nil.
func (t *table) moreOf(e *entry) *more {
	if e == nil || !t.hasMore.Load() {
		return nil
	}
	m, _ := t.more.Load(e)
	p, _ := m.(*more)
	return p
}

// linksObject reads the value of a links or meta member at the cursor:
// an object, returned as its JSON text (a copy), or null, returned as "".
// Any other value is an error: JSON:API says both are objects.
func (p *parser) linksObject(name string) (string, error) {
	s := &p.sc
	p.in(name)
	defer p.out()
	switch c := s.next(); c {
	case 'n':
		if err := s.literal("null"); err != nil {
			return "", p.fail(err)
		}
		return "", nil
	case '{':
		start := s.pos
		raw, err := s.skip()
		if err != nil {
			return "", p.failIn(err, start)
		}
		return string(raw), nil
	default:
		return "", p.wrong("%s must be an object, not %s", name, kindName(c))
	}
}

// linksValue renders a Document's links or meta map as JSON text; nil
// gives "".
func (p *parser) linksValue(name string, m map[string]any) (string, error) {
	if m == nil {
		return "", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		p.in(name)
		defer p.out()
		return "", p.fail(fmt.Errorf("encoding %s as JSON: %w", name, err))
	}
	return string(b), nil
}

// linksMetaValue renders a Document's links and meta maps.
func (p *parser) linksMetaValue(links, meta map[string]any) (linksMeta, error) {
	var lm linksMeta
	var err error
	if lm.links, err = p.linksValue("links", links); err != nil {
		return lm, err
	}
	lm.meta, err = p.linksValue("meta", meta)
	return lm, err
}

// decodeObject decodes JSON text the Store kept into a fresh map: every
// reader gets its own. "" gives nil. Numbers are float64, as
// encoding/json gives them (and as Document.Meta and QueryResult.Meta
// have them), unless one of the object's number literals would not read
// back the same from a float64 (see exactNumbers): then every number of
// the object is a json.Number, holding the literal as it was pushed, so
// that nothing is lost.
func decodeObject(text string) map[string]any {
	if text == "" {
		return nil
	}
	var m map[string]any
	_ = unmarshalObject([]byte(text), &m) // the push checked the text
	return m
}

// Links returns the links object of the record k as its last push that
// carried one had it, or nil when the Store does not hold k or no push
// carried links. A push without links keeps the previous ones, as it
// keeps attributes it omits. The map is the caller's own. Use [Href] to
// read one link. Numbers are float64, as encoding/json decodes them,
// unless one number of the object would read back otherwise from a
// float64 (an integer past 2^53, more than 17 significant digits, a
// value out of range such as 1e400): then every number of that object
// is a [json.Number] holding the literal pushed.
func (s *Store) Links(k Key) map[string]any {
	return decodeObject(s.linksMeta(k).links)
}

// Meta returns the meta object of the record k as [Store.Links] returns
// its links.
func (s *Store) Meta(k Key) map[string]any {
	return decodeObject(s.linksMeta(k).meta)
}

func (s *Store) linksMeta(k Key) linksMeta {
	t := s.lookupType(k.Type)
	if t == nil {
		return linksMeta{}
	}
	return t.linksMeta(k.ID)
}

func (t *table) linksMeta(id string) linksMeta {
	return t.relLinksMeta(id, -1)
}

// relLinksMeta returns the links and meta of relationship ri of the record
// id, or the record's own for ri < 0, as one state of the Store has them.
func (t *table) relLinksMeta(id string, ri int) (lm linksMeta) {
	if !t.hasMore.Load() {
		return linksMeta{}
	}
	t.s.consistent(func() {
		lm = linksMeta{}
		e := t.entry(id)
		if e == nil || !e.loaded() {
			return
		}
		switch m := t.moreOf(e); {
		case ri < 0 && m != nil:
			lm = m.linksMeta
		case ri >= 0:
			lm = m.rel(ri) // nil-safe
		}
	})
	return lm
}

// Links returns the links object of the record id as [Store.Links] does.
func (m *Model[T]) Links(id string) map[string]any { return decodeObject(m.t.linksMeta(id).links) }

// Meta returns the meta object of the record id as [Store.Meta] does.
func (m *Model[T]) Meta(id string) map[string]any { return decodeObject(m.t.linksMeta(id).meta) }

// linksMetaOf reads the links and meta members of the resource hash h
// into r: as maps for a Document its caller sees, and as JSON text in the
// Document's rawStore for one that goes straight to a push (n.fast),
// which would only turn the maps back into the text it keeps.
func linksMetaOf(n *normalizer, h *Hash, r *Resource) error {
	lm, err := n.linksMetaMembers(h, &r.Links, &r.Meta)
	if err == nil && lm != (linksMeta{}) {
		n.fastMore(r).linksMeta = lm
	}
	return err
}

// relLinksMeta reads a relationship object's links and meta: into rel's
// maps, or, when fast, as JSON text into n.relMore, which record keeps
// with keepRelMore.
func (n *normalizer) relLinksMeta(obj *Hash, rel *Relationship) (err error) {
	n.relMore, err = n.linksMetaMembers(obj, &rel.Links, &rel.Meta)
	return err
}

// linksMetaMembers reads the links and meta members of the object h into
// links and meta, or, when fast, returns them as JSON text.
func (n *normalizer) linksMetaMembers(h *Hash, links, meta *map[string]any) (lm linksMeta, err error) {
	if v, ok := h.Raw("links"); ok {
		if lm.links, err = n.linksMember("links", v, links); err != nil {
			return lm, err
		}
	}
	if v, ok := h.Raw("meta"); ok {
		lm.meta, err = n.linksMember("meta", v, meta)
	}
	return lm, err
}

// keepRelMore keeps what relLinksMeta read, fast, for relationship ri of r.
func (n *normalizer) keepRelMore(r *Resource, ri int) {
	if n.relMore != (linksMeta{}) {
		m := n.fastMore(r)
		m.rels = append(m.rels, relMore{linksMeta: n.relMore, ri: int32(ri)})
		n.relMore = linksMeta{}
	}
}

// linksMember reads the value v of a links or meta member: into *dst as
// a map, or, when fast, returned as JSON text (a copy). null is absent.
func (n *normalizer) linksMember(name string, v []byte, dst *map[string]any) (string, error) {
	if n.fast {
		switch c := firstByte(v); c {
		case 'n':
			return "", nil
		case '{':
			return string(v), nil
		default:
			n.in(name)
			return "", n.fail(fmt.Errorf("%s must be an object, not %s", name, kindName(c)))
		}
	}
	if err := unmarshalObject(v, dst); err != nil {
		n.in(name)
		return "", n.fail(fmt.Errorf("%s must be an object: %w", name, err))
	}
	return "", nil
}

// fastMore returns the links and meta kept as text for r, making them on
// first use.
func (n *normalizer) fastMore(r *Resource) *more {
	rs := n.doc.raws
	if rs.more == nil {
		rs.more = map[*Resource]*more{}
	}
	m := rs.more[r]
	if m == nil {
		m = &more{}
		rs.more[r] = m
	}
	return m
}

// setMore makes m, if not nil, the links and meta of the staged resource
// st.
func (p *parser) setMore(st *staged, m *more) {
	if m == nil {
		return
	}
	if p.more == nil {
		p.more = map[stagedAt]*more{}
	}
	p.more[posOf(st)] = m
}

// unmarshalObject decodes a links or meta object for a Document as
// decodeObject does for readers, so that what Push keeps PushPayload
// keeps too. It decodes once: which kind of number to use is decided
// by a scan of the text first.
func unmarshalObject(raw []byte, dst *map[string]any) error {
	if exactNumbers(raw) {
		return json.Unmarshal(raw, dst)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	*dst = nil
	return d.Decode(dst) // raw is one valid value: nothing can follow it
}

// exactNumbers reports whether every number literal of the valid JSON
// text s reads back as the same number from a float64: whether the
// shortest decimal that formats the float64 nearest to the literal has
// the literal's value ("1.50" and "0.1" do, "9007199254740993" and
// "1e400" do not). It reads s once, allocates nothing, and parses a
// literal only when it has 16 or 17 significant digits or an exponent
// out of the range where 15 digits always round-trip.
func exactNumbers[S ~string | ~[]byte](s S) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case c == '-' || '0' <= c && c <= '9':
			j := i + 1
			for j < len(s) && jsonNumberByte(s[j]) {
				j++
			}
			if !exactNumber(string(s[i:j])) {
				return false
			}
			i = j - 1
		}
	}
	return true
}

// jsonNumberByte reports whether c may be part of a JSON number.
func jsonNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// exactNumber reports whether the JSON number lit reads back as the same
// number from a float64; see exactNumbers.
func exactNumber(lit string) bool {
	d := decimalOf(lit)
	switch {
	case d.n == 0:
		return true // a zero
	case d.n > 17:
		return false // a float64's shortest decimal has at most 17 digits
	case d.n <= 15 && -306 <= d.exp && d.exp <= 308:
		return true // 15 digits round-trip through a normal float64
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return false // out of range
	}
	return decimalOf(strconv.FormatFloat(f, 'e', -1, 64)) == d
}

// decimal is a number's value as 0.digits × 10^exp, without leading or
// trailing zeros in digits; n counts the digits, of which at most the
// first 18 are kept.
type decimal struct {
	neg    bool
	digits [18]byte
	n      int
	exp    int
}

// decimalOf returns the decimal value of the number literal lit (JSON's
// syntax, or strconv's 'e' format). Exponents are clamped to about
// ±10^9: far past any float64.
func decimalOf(lit string) decimal {
	var d decimal
	i := 0
	if i < len(lit) && lit[i] == '-' {
		d.neg = true
		i++
	}
	intDigits, zeros, point := 0, 0, false
	first := -1 // the index, among all digits, of the first nonzero
	k := 0
	for ; i < len(lit); i++ {
		c := lit[i]
		if c == '.' {
			point = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		if !point {
			intDigits++
		}
		switch {
		case c == '0' && first < 0:
		case c == '0':
			zeros++ // kept only if a nonzero digit follows
		default:
			if first < 0 {
				first = k
			}
			for ; zeros > 0; zeros-- {
				d.push('0')
			}
			d.push(c)
		}
		k++
	}
	if first < 0 {
		return decimal{} // zero, whatever its sign and exponent
	}
	exp := 0
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		i++
		neg := false
		if i < len(lit) && (lit[i] == '+' || lit[i] == '-') {
			neg = lit[i] == '-'
			i++
		}
		for ; i < len(lit); i++ {
			if exp < 1e8 {
				exp = exp*10 + int(lit[i]-'0')
			}
		}
		if neg {
			exp = -exp
		}
	}
	d.exp = intDigits - first + exp
	return d
}

func (d *decimal) push(c byte) {
	if d.n < len(d.digits) {
		d.digits[d.n] = c
	}
	d.n++
}

// hashLinks reads raw, the value of a record hash's links member, as
// Ember Data's JSONSerializer reads it: each member, named by a
// relationship's payload key under KeyForRelationship (not Attrs, as for
// the "Type" member of a polymorphic relationship), holds the URL of that
// relationship's related link, a string or a JSON:API link object with an
// "href" string. It becomes the relationship's links, {"related": value};
// a relationship the hash has no data for becomes links-only, so that its
// data stays as the Store holds it. null, for the whole object or one
// link, counts as absent. A key that names no relationship of t is
// reported as an unknown member; any other value fails the payload, as a
// relationship value of the wrong JSON type does. The cost is linear in
// the object's size: one map lookup per member.
func (n *normalizer) hashLinks(j *JSONSerializer, t *table, r *Resource, raw []byte) error {
	n.in("links")
	defer n.out()
	switch c := firstByte(raw); c {
	case 'n':
		return nil
	case '{':
	default:
		return n.fail(fmt.Errorf("links must be an object of relationship links, not %s", kindName(c)))
	}
	lh, err := n.subHash(raw)
	if err != nil {
		return err
	}
	defer n.putHash(lh)
	byKey := j.keysFor(t).linkKeys(j, t)
	for k, v := range lh.All() {
		ri, ok := byKey[k]
		if !ok {
			if n.members {
				n.reports.add(ReportUnknownMember, t.name, "links/"+k, func() Report {
					n.in(k)
					defer n.out()
					return Report{Pointer: n.pointer(), Message: msgUnknownMember}
				})
			}
			continue
		}
		n.in(k)
		related, err := n.hashLink(v)
		if err != nil {
			return err
		}
		n.out()
		if related == nil {
			continue
		}
		rf := &t.rels[ri]
		rel := r.Relationships[rf.name]
		if rel == nil {
			if r.Relationships == nil {
				r.Relationships = make(map[string]*Relationship, len(t.rels))
			}
			rel = &Relationship{Many: rf.many, LinksOnly: true}
			r.Relationships[rf.name] = rel
		}
		if n.fast {
			// The push keeps links as text: write it once, here.
			m := n.fastMore(r)
			if m.rels == nil {
				m.rels = make([]relMore, 0, lh.Len())
			}
			m.rels = append(m.rels, relMore{linksMeta: linksMeta{links: `{"related":` + string(v) + `}`}, ri: int32(ri)})
			continue
		}
		rel.Links = map[string]any{"related": related}
	}
	return nil
}

// hashLink checks v, one link of a record hash's links object: a string,
// or a link object with an "href" string. It returns the link as a
// Document holds it (a string, or the object as a map; for a push's
// Document, which keeps the text, only a non-nil marker), or nil for null.
func (n *normalizer) hashLink(v []byte) (any, error) {
	switch firstByte(v) {
	case 'n':
		return nil, nil
	case '"':
		if n.fast {
			return true, nil
		}
		s, err := n.sc.unquote(v[1 : len(v)-1])
		if err != nil {
			return nil, n.fail(err)
		}
		return s, nil
	case '{':
		obj, err := n.subHash(v)
		if err != nil {
			return nil, err
		}
		href, ok := obj.Raw("href")
		n.putHash(obj)
		if !ok || firstByte(href) != '"' {
			return nil, n.fail(errors.New(`a link object needs an "href" string`))
		}
		if n.fast {
			return true, nil
		}
		var m map[string]any
		if err := unmarshalObject(v, &m); err != nil {
			return nil, n.fail(err)
		}
		return m, nil
	}
	return nil, n.fail(fmt.Errorf("a link must be a string or a link object, not %s", kindName(firstByte(v))))
}

// linkKeys returns the relationships of t by the keys a record hash's
// links object names them with under j, made on first use.
func (mk *memberKeys) linkKeys(j *JSONSerializer, t *table) map[string]int {
	mk.linksOnce.Do(func() {
		mk.links = make(map[string]int, len(t.rels))
		for i := len(t.rels) - 1; i >= 0; i-- { // the first of two alike wins
			name := t.rels[i].name
			if j.KeyForRelationship != nil {
				name = j.KeyForRelationship(name)
			}
			mk.links[name] = i
		}
	})
	return mk.links
}
