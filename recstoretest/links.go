package recstoretest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/inflect"
)

var _ recstore.LinkFinder = (*MemoryAdapter)(nil)

// english makes the plural path segments of links; its rules are only
// read.
var english = inflect.English()

// typePath is the host-relative path of a model type's collection, as
// HTTPAdapter builds it: "/github-handles".
func typePath(typ string) string {
	return "/" + url.PathEscape(english.Plural(inflect.Dasherize(modelType(typ))))
}

// linked returns resource r as it is served: with RelationshipLinks,
// through withRelationshipLinks.
func (m *MemoryAdapter) linked(r json.RawMessage) json.RawMessage {
	if !m.RelationshipLinks {
		return r
	}
	typ, id, err := identify(r)
	if err != nil {
		return r
	}
	return withRelationshipLinks(typ, id, r)
}

// withRelationshipLinks gives each relationship of resource r that has no
// links of its own the links the test server answers:
// {"self": "/albums/1/relationships/tracks", "related": "/albums/1/tracks"}.
// A resource without relationships is returned as it is.
func withRelationshipLinks(typ, id string, r json.RawMessage) json.RawMessage {
	var res map[string]json.RawMessage
	if json.Unmarshal(r, &res) != nil || res["relationships"] == nil {
		return r
	}
	var rels map[string]map[string]json.RawMessage
	if json.Unmarshal(res["relationships"], &rels) != nil || len(rels) == 0 {
		return r
	}
	changed := false
	base := typePath(typ) + "/" + url.PathEscape(id)
	for name, rel := range rels {
		if rel == nil || rel["links"] != nil {
			continue
		}
		links, _ := json.Marshal(map[string]string{
			"self":    base + "/relationships/" + url.PathEscape(name),
			"related": base + "/" + url.PathEscape(name),
		})
		rel["links"] = links
		changed = true
	}
	if !changed {
		return r
	}
	res["relationships"], _ = json.Marshal(rels)
	out, err := json.Marshal(res)
	if err != nil {
		return r
	}
	return out
}

// A page is the part of a collection a request asks for: by number and
// size (page[number], page[size]; numbers from 1) or by offset and limit
// (page[offset], page[limit]; offsets from 0).
type page struct {
	byOffset     bool
	offset, size int
	number       int // by number only
}

// pageOf reads the page parameters of q. Without any, a MemoryAdapter
// whose PageSize is set serves the first page of that size; otherwise ok
// is false and the collection is served whole.
func pageOf(q url.Values, defaultSize int) (p page, ok bool, err error) {
	num := func(key string, def, min int) (int, error) {
		s := q.Get(key)
		if s == "" {
			return def, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < min || n > maxPageParam {
			return 0, fmt.Errorf("recstoretest: %s=%q: want an integer from %d to %d: %w", key, s, min, maxPageParam, recstore.ErrInvalid)
		}
		return n, nil
	}
	has := func(keys ...string) bool {
		return slices.ContainsFunc(keys, func(k string) bool { return q.Has(k) })
	}
	switch {
	case has("page[offset]", "page[limit]"):
		p.byOffset = true
		if p.offset, err = num("page[offset]", 0, 0); err != nil {
			return p, false, err
		}
		if p.size, err = num("page[limit]", defaultPage(defaultSize), 1); err != nil {
			return p, false, err
		}
		return p, true, nil
	case has("page[number]", "page[size]"):
		if p.number, err = num("page[number]", 1, 1); err != nil {
			return p, false, err
		}
		if p.size, err = num("page[size]", defaultPage(defaultSize), 1); err != nil {
			return p, false, err
		}
		if p.number-1 > maxPageParam/p.size {
			return p, false, fmt.Errorf("recstoretest: page %d of size %d is out of range: %w", p.number, p.size, recstore.ErrInvalid)
		}
		p.offset = (p.number - 1) * p.size
		return p, true, nil
	case defaultSize > 0:
		return page{number: 1, size: defaultSize}, true, nil
	}
	return p, false, nil
}

// maxPageParam bounds page parameters and offsets, so that an offset plus
// a size cannot overflow an int.
const maxPageParam = math.MaxInt / 4

// defaultPage is the page size when a request asks for pages without
// saying how large.
func defaultPage(size int) int {
	if size > 0 {
		return size
	}
	return 10
}

// collection serves the records of typ matching query's filters, paged
// when query asks for pages (or PageSize is set) with JSON:API pagination
// links (first, prev, next, last; null where there is none) and meta
// {"total": n}.
func (m *MemoryAdapter) collection(typ string, query url.Values) ([]byte, error) {
	p, paged, err := pageOf(query, m.PageSize)
	if err != nil {
		return nil, err
	}
	all := m.matched(typ, query)
	if !paged {
		return document(list(all)), nil
	}
	total := len(all)
	from, to := min(p.offset, total), min(p.offset+p.size, total)
	link := func(offset int) *string {
		q := url.Values{}
		for k, v := range query {
			if !strings.HasPrefix(k, "page[") {
				q[k] = slices.Clone(v)
			}
		}
		if p.byOffset {
			q.Set("page[offset]", strconv.Itoa(offset))
			q.Set("page[limit]", strconv.Itoa(p.size))
		} else {
			q.Set("page[number]", strconv.Itoa(offset/p.size+1))
			q.Set("page[size]", strconv.Itoa(p.size))
		}
		s := typePath(typ) + "?" + q.Encode()
		return &s
	}
	last := 0
	if total > 0 {
		last = (total - 1) / p.size * p.size
	}
	links := map[string]*string{"self": link(p.offset), "first": link(0), "last": link(last), "prev": nil, "next": nil}
	if p.offset > 0 {
		links["prev"] = link(max(0, min(p.offset-p.size, last)))
	}
	if p.offset+p.size < total {
		links["next"] = link(p.offset + p.size)
	}
	var l strings.Builder
	enc := json.NewEncoder(&l)
	enc.SetEscapeHTML(false) // keep "&" readable in the links
	_ = enc.Encode(links)
	return []byte(`{"data": ` + list(all[from:to]) + `, "links": ` + strings.TrimSpace(l.String()) + `, "meta": {"total": ` + strconv.Itoa(total) + `}}`), nil
}

// FindLink answers the links the test server's documents hold, so that
// tests without HTTP can follow them: a collection's pagination links
// ("/albums?page[number]=2&page[size]=10"), a relationship's related link
// ("/albums/1/tracks") and self link ("/albums/1/relationships/tracks"),
// and a record's URL ("/albums/1"). Scheme and host, if any, are ignored;
// a relative link is resolved against "/albums/1" for a related link and
// the collection for a pagination link, as HTTPAdapter resolves it. The
// related records are those the relationship's data names and the
// backend holds: an array for a to-many, one resource or null for a
// to-one. A relationship given without data (links only) is answered
// with the records of the type its name singularizes to ("tracks" →
// track) whose relationships name the record; having no data, the
// adapter guesses the relationship's kind from its name's number: a
// name that is its own singular ("label") is a to-one, answered with the
// first such record in load order or null, and any other ("tracks") a
// to-many, answered with an array. A self link answers the same
// relationship as resource identifiers (type and id only): the
// relationship's data as it is, or, links only, the identifiers of the
// records the related link would answer. Anything else is an error
// wrapping recstore.ErrNotFound.
func (m *MemoryAdapter) FindLink(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := m.begin(ctx, "FindLink", req); err != nil {
		return nil, err
	}
	ref, err := url.Parse(req.Link)
	if err != nil || req.Link == "" {
		return nil, fmt.Errorf("recstoretest: link %q: %w", req.Link, recstore.ErrNotFound)
	}
	if ref.Scheme == "" && ref.Host == "" && !strings.HasPrefix(ref.Path, "/") {
		base := &url.URL{Path: typePath(req.Type), RawQuery: req.Query.Encode()} // the last segment is replaced
		if req.Relationship != "" {
			base.Path = typePath(req.Type) + "/" + url.PathEscape(req.ID) + "/"
		}
		ref = base.ResolveReference(ref)
	}
	var segs []string
	for _, s := range strings.Split(strings.Trim(ref.EscapedPath(), "/"), "/") {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("recstoretest: link %q: %w", req.Link, recstore.ErrNotFound)
		}
		segs = append(segs, u)
	}
	typ := pathType(segs[0])
	switch {
	case len(segs) == 1 && segs[0] != "":
		return m.collection(typ, ref.Query())
	case len(segs) == 2:
		m.mu.Lock()
		defer m.mu.Unlock()
		r, ok := m.records[modelType(typ)][segs[1]]
		if !ok {
			return nil, notFound(typ, segs[1])
		}
		return document(string(m.linked(r))), nil
	case len(segs) == 3:
		return m.related(typ, segs[1], segs[2], false)
	case len(segs) == 4 && segs[2] == "relationships":
		return m.related(typ, segs[1], segs[3], true)
	}
	return nil, fmt.Errorf("recstoretest: link %q: %w", req.Link, recstore.ErrNotFound)
}

// related serves the records relationship rel of typ/id names, or with
// linkage set its data as it is.
func (m *MemoryAdapter) related(typ, id, rel string, linkage bool) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	typ = modelType(typ)
	r, ok := m.records[typ][id]
	if !ok {
		return nil, notFound(typ, id)
	}
	var res struct {
		Relationships map[string]map[string]json.RawMessage `json:"relationships"`
	}
	_ = json.Unmarshal(r, &res)
	obj, ok := res.Relationships[rel]
	if !ok {
		return nil, fmt.Errorf("recstoretest: %s %s has no relationship %q: %w", typ, id, rel, recstore.ErrNotFound)
	}
	data, ok := obj["data"]
	if !ok {
		// No data to go by: the records of the type rel names that point
		// back at typ/id. A singular name is a to-one, a plural one a
		// to-many (a heuristic: the backend holds no schema).
		found := m.pointingAt(modelType(rel), typ, id)
		if linkage {
			for i, r := range found {
				found[i] = identifierOf(r)
			}
		}
		if english.Singular(rel) == rel {
			if len(found) == 0 {
				return document("null"), nil
			}
			return document(string(found[0])), nil
		}
		return document(list(found)), nil
	}
	if linkage {
		return document(string(data)), nil
	}
	var idents []json.RawMessage
	if json.Unmarshal(data, &idents) == nil && strings.HasPrefix(strings.TrimSpace(string(data)), "[") {
		var out []json.RawMessage
		for _, ident := range idents {
			if t, i, err := identify(ident); err == nil {
				if rr, ok := m.records[modelType(t)][i]; ok {
					out = append(out, m.linked(rr))
				}
			}
		}
		return document(list(out)), nil
	}
	if t, i, err := identify(data); err == nil {
		if rr, ok := m.records[modelType(t)][i]; ok {
			return document(string(m.linked(rr))), nil
		}
	}
	return document("null"), nil
}

// identifierOf returns the resource identifier of resource r: its type
// and id only.
func identifierOf(r json.RawMessage) json.RawMessage {
	var ident struct {
		Type string          `json:"type"`
		ID   json.RawMessage `json:"id"`
	}
	if json.Unmarshal(r, &ident) != nil {
		return r
	}
	b, err := json.Marshal(ident)
	if err != nil {
		return r
	}
	return b
}

// pointingAt lists the records of type from whose relationships' data
// name typ/id, in load order; m.mu is held.
func (m *MemoryAdapter) pointingAt(from, typ, id string) []json.RawMessage {
	var out []json.RawMessage
	for _, fid := range m.order[from] {
		r := m.records[from][fid]
		var res struct {
			Relationships map[string]struct {
				Data json.RawMessage `json:"data"`
			} `json:"relationships"`
		}
		if json.Unmarshal(r, &res) != nil {
			continue
		}
	rels:
		for _, rel := range res.Relationships {
			idents := []json.RawMessage{rel.Data}
			if strings.HasPrefix(strings.TrimSpace(string(rel.Data)), "[") {
				idents = nil
				_ = json.Unmarshal(rel.Data, &idents)
			}
			for _, ident := range idents {
				if t, i, err := identify(ident); err == nil && modelType(t) == typ && i == id {
					out = append(out, m.linked(r))
					break rels
				}
			}
		}
	}
	return out
}

// pageParams keeps only q's page parameters: FindAll ignores the others.
func pageParams(q url.Values) url.Values {
	var out url.Values
	for k, v := range q {
		if strings.HasPrefix(k, "page[") {
			if out == nil {
				out = url.Values{}
			}
			out[k] = slices.Clone(v)
		}
	}
	return out
}
