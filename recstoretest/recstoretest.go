// Package recstoretest helps test code that uses recstore, and Adapters
// written for it: an in-memory Adapter loaded from fixtures, a JSON:API
// test server backed by the same fixtures, and a conformance check any
// Adapter can run.
package recstoretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/recstore/recstore"
	"github.com/recstore/recstore/inflect"
)

// MemoryAdapter is a recstore Adapter over JSON:API resource objects held
// in memory: a fake backend for tests. It implements every Adapter
// capability, LinkFinder included, counts calls, and can be slowed down
// or made to fail. Its collections are paged on request, with
// pagination links, and its relationships can carry links
// (RelationshipLinks); FindLink and NewServer answer both. Load
// fills it from fixtures. Its zero value is an empty backend ready to use,
// and it is safe for concurrent use; set Delay and Fail before use.
//
// Responses are JSON:API documents in the form the fixtures were written
// in, so they suit the Store's default JSONAPISerializer when the fixtures
// use dasherized member names, or a Store whose serializer reads them as
// written.
type MemoryAdapter struct {
	// Delay is added to every call; a call whose ctx ends first returns
	// ctx's error.
	Delay time.Duration
	// Fail, if not nil, is called first by every call with the method's
	// name ("FindRecord", "FindMany", ...) and the request, unless
	// FailNext has queued an error for the call; an error it returns is
	// the call's. Return a *recstore.BackendError to act out a refusal
	// (Invalid and Conflict make the usual ones): NewServer sends it with
	// its status and error objects.
	Fail func(op string, req *recstore.Request) error
	// RelationshipLinks, if set, gives every relationship in the
	// documents served (through NewServer too) that has no links of its
	// own the links FindLink and NewServer answer: related
	// ("/albums/1/tracks") and self ("/albums/1/relationships/tracks").
	// Off, relationships are served as loaded, and a Store that follows
	// related links finds them only where the fixtures wrote them.
	RelationshipLinks bool
	// PageSize, if > 0, pages FindAll and Query answers that ask for no
	// page: they hold the first PageSize records and pagination links, as
	// from a backend that always paginates. Requests that ask for pages
	// get them whatever PageSize says (see FindAll).
	PageSize int

	mu       sync.Mutex                            // guards the fields below
	records  map[string]map[string]json.RawMessage // model type → id → resource object
	order    map[string][]string                   // model type → ids in load order
	calls    map[string]int
	failNext map[string][]error // method → errors FailNext queued for its next calls
	lastID   int
}

var (
	_ recstore.Adapter       = (*MemoryAdapter)(nil)
	_ recstore.AllFinder     = (*MemoryAdapter)(nil)
	_ recstore.ManyFinder    = (*MemoryAdapter)(nil)
	_ recstore.Querier       = (*MemoryAdapter)(nil)
	_ recstore.RecordQuerier = (*MemoryAdapter)(nil)
	_ recstore.Creator       = (*MemoryAdapter)(nil)
	_ recstore.Updater       = (*MemoryAdapter)(nil)
	_ recstore.Deleter       = (*MemoryAdapter)(nil)
)

// NewMemoryAdapter returns a MemoryAdapter loaded with the resources of
// the JSON:API documents fixtures (their data and included members). It
// panics if a fixture is not a valid document, as fixtures are part of a
// test.
func NewMemoryAdapter(fixtures ...string) *MemoryAdapter {
	m := &MemoryAdapter{}
	for _, f := range fixtures {
		if err := m.Load([]byte(f)); err != nil {
			panic(err)
		}
	}
	return m
}

// modelType maps a resource's type, plural or singular, to a model type.
func modelType(typ string) string { return recstore.ModelNameFromPayloadKey(typ) }

// Load adds, or replaces, the resources of a JSON:API document: its data
// (one resource or an array) and its included resources. Each needs a
// type and an id.
func (m *MemoryAdapter) Load(doc []byte) error {
	var d struct {
		Data     json.RawMessage   `json:"data"`
		Included []json.RawMessage `json:"included"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return fmt.Errorf("recstoretest: fixture: %w", err)
	}
	var resources []json.RawMessage
	if t := strings.TrimSpace(string(d.Data)); strings.HasPrefix(t, "[") {
		if err := json.Unmarshal(d.Data, &resources); err != nil {
			return fmt.Errorf("recstoretest: fixture data: %w", err)
		}
	} else if t != "" && t != "null" {
		resources = append(resources, d.Data)
	}
	resources = append(resources, d.Included...)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range resources {
		typ, id, err := identify(r)
		if err != nil {
			return err
		}
		m.put(modelType(typ), id, r)
	}
	return nil
}

// identify returns a resource object's type and id (a number as its text).
func identify(r json.RawMessage) (typ, id string, err error) {
	var ident struct {
		Type string          `json:"type"`
		ID   json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(r, &ident); err != nil {
		return "", "", fmt.Errorf("recstoretest: resource: %w", err)
	}
	id = strings.Trim(string(ident.ID), `"`)
	if ident.Type == "" || id == "" || id == "null" {
		return "", "", fmt.Errorf("recstoretest: resource without type or id: %s", r)
	}
	return ident.Type, id, nil
}

// put stores r under typ/id; m.mu is held.
func (m *MemoryAdapter) put(typ, id string, r json.RawMessage) {
	if m.records == nil {
		m.records, m.order = map[string]map[string]json.RawMessage{}, map[string][]string{}
	}
	if m.records[typ] == nil {
		m.records[typ] = map[string]json.RawMessage{}
	}
	if _, ok := m.records[typ][id]; !ok {
		m.order[typ] = append(m.order[typ], id)
	}
	m.records[typ][id] = slices.Clone(r)
	if n, err := strconv.Atoi(id); err == nil && n > m.lastID {
		m.lastID = n
	}
}

// Calls returns how many times method op ("FindRecord", "FindMany", ...)
// has been called, or with op "" all calls.
func (m *MemoryAdapter) Calls(op string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if op == "" {
		n := 0
		for _, c := range m.calls {
			n += c
		}
		return n
	}
	return m.calls[op]
}

// Has reports whether the backend holds the record typ/id.
func (m *MemoryAdapter) Has(typ, id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.records[modelType(typ)][id]
	return ok
}

// FailNext makes the next calls of method op ("CreateRecord",
// "UpdateRecord", "FindRecord", ...) fail, one call for each of errs, in
// order, whatever their requests: a test of retries makes a save fail
// once and then succeed with FailNext("UpdateRecord", err). A nil error
// lets its call go on as if none were queued, so FailNext(op, nil, err)
// fails the second call. Errors add to those queued already; a call that
// takes a queued error does not consult Fail, and is counted by Calls.
// It is safe to call at any time, concurrently with calls.
func (m *MemoryAdapter) FailNext(op string, errs ...error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failNext == nil {
		m.failNext = map[string][]error{}
	}
	m.failNext[op] = append(m.failNext[op], errs...)
}

// begin counts a call, applies a queued error, Fail and Delay.
func (m *MemoryAdapter) begin(ctx context.Context, op string, req *recstore.Request) error {
	m.mu.Lock()
	if m.calls == nil {
		m.calls = map[string]int{}
	}
	m.calls[op]++
	var queued error
	if q := m.failNext[op]; len(q) > 0 {
		queued = q[0]
		if len(q) == 1 {
			delete(m.failNext, op)
		} else {
			m.failNext[op] = q[1:]
		}
	}
	m.mu.Unlock()
	if queued != nil {
		return queued
	}
	if m.Fail != nil {
		if err := m.Fail(op, req); err != nil {
			return err
		}
	}
	if m.Delay > 0 {
		t := time.NewTimer(m.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return ctx.Err()
}

// notFound is a missing record's error: a 404, as an HTTP backend would
// answer, so that errors.As and errors.Is read it as they read an
// HTTPAdapter's.
func notFound(typ, id string) error {
	return &recstore.BackendError{Status: 404, Errors: []recstore.ErrorObject{{
		Status: "404", Title: "Not Found", Detail: fmt.Sprintf("recstoretest: no %s with id %q", typ, id)}}}
}

// Invalid returns the refusal of a backend that found the request's
// record invalid, for a MemoryAdapter's OnSave, Fail or FailNext to
// return: status 422 (errors.Is recstore.ErrInvalid) with one JSON:API
// error object for each pair of a JSON pointer into the request document
// and a detail, in order, such as
//
//	Invalid("/data/attributes/title", "can't be blank", "/data", "is a duplicate")
//
// Each object's Source.Pointer is its pointer and its Title says what the
// pointer names: "Invalid Attribute" for one under /data/attributes/,
// "Invalid Relationship" under /data/relationships/, "Invalid Document"
// otherwise. recstore's Store.ExtractErrors maps them to attribute names.
// A last pointer without a detail gets "is invalid"; no pairs at all
// make one object about the whole record ("/data").
func Invalid(pointerDetail ...string) *recstore.BackendError {
	if len(pointerDetail) == 0 {
		pointerDetail = []string{"/data"}
	}
	be := &recstore.BackendError{Status: http.StatusUnprocessableEntity}
	for i := 0; i < len(pointerDetail); i += 2 {
		ptr, detail := pointerDetail[i], "is invalid"
		if i+1 < len(pointerDetail) {
			detail = pointerDetail[i+1]
		}
		title := "Invalid Document"
		switch {
		case strings.HasPrefix(ptr, "/data/attributes/"):
			title = "Invalid Attribute"
		case strings.HasPrefix(ptr, "/data/relationships/"):
			title = "Invalid Relationship"
		}
		be.Errors = append(be.Errors, errorObject(http.StatusUnprocessableEntity, title, ptr, detail))
	}
	return be
}

// Conflict returns the refusal of a backend whose state conflicts with
// the request, for a MemoryAdapter's OnSave, Fail or FailNext to return:
// status 409 (errors.Is recstore.ErrConflict) with one JSON:API error
// object whose Title is "Conflict" and Detail detail, as for a save
// against a stale version. CreateRecord answers a record whose id is
// taken with one too.
func Conflict(detail string) *recstore.BackendError {
	return refusal(http.StatusConflict, "Conflict", "", detail)
}

// refusal is a *recstore.BackendError with one error object.
func refusal(status int, title, pointer, detail string) *recstore.BackendError {
	return &recstore.BackendError{Status: status, Errors: []recstore.ErrorObject{errorObject(status, title, pointer, detail)}}
}

// errorObject makes one JSON:API error object; an empty pointer gives no
// source.
func errorObject(status int, title, pointer, detail string) recstore.ErrorObject {
	o := recstore.ErrorObject{Status: strconv.Itoa(status), Title: title, Detail: detail}
	if pointer != "" {
		o.Source = &recstore.ErrorSource{Pointer: pointer}
	}
	return o
}

func document(data string) []byte { return []byte(`{"data": ` + data + `}`) }

func list(rs []json.RawMessage) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = string(r)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// FindRecord returns {"data": resource}, with the records the first step of
// each req.Include path names as included, or a *recstore.BackendError
// with status 404 (which matches recstore.ErrNotFound).
func (m *MemoryAdapter) FindRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := m.begin(ctx, "FindRecord", req); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[modelType(req.Type)][req.ID]
	if !ok {
		return nil, notFound(req.Type, req.ID)
	}
	return m.withIncluded(string(m.linked(r)), []json.RawMessage{r}, req.Include), nil
}

// withIncluded makes {"data": data, "included": [...]} with the records
// that the include paths' first steps name from rs; m.mu is held.
func (m *MemoryAdapter) withIncluded(data string, rs []json.RawMessage, include []string) []byte {
	if len(include) == 0 {
		return document(data)
	}
	seen := map[string]bool{}
	var incl []json.RawMessage
	for _, r := range rs {
		var res struct {
			Relationships map[string]struct {
				Data json.RawMessage `json:"data"`
			} `json:"relationships"`
		}
		if json.Unmarshal(r, &res) != nil {
			continue
		}
		for _, path := range include {
			name, _, _ := strings.Cut(path, ".")
			var idents []json.RawMessage
			d := res.Relationships[name].Data
			if err := json.Unmarshal(d, &idents); err != nil {
				idents = []json.RawMessage{d}
			}
			for _, ident := range idents {
				typ, id, err := identify(ident)
				if err != nil {
					continue
				}
				key := modelType(typ) + ":" + id
				if rel, ok := m.records[modelType(typ)][id]; ok && !seen[key] {
					seen[key] = true
					incl = append(incl, m.linked(rel))
				}
			}
		}
	}
	return []byte(`{"data": ` + data + `, "included": ` + list(incl) + `}`)
}

// FindAll returns every record of req.Type, in the order they were loaded.
// A req.Query asking for a page (page[number] and page[size], numbers
// from 1, or page[offset] and page[limit]) gets that page, with links
// first, prev, next and last (null where there is none; each keeps
// req.Query's other parameters) and meta {"total": n}; so does every
// request when PageSize is set. Other parameters are ignored.
func (m *MemoryAdapter) FindAll(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := m.begin(ctx, "FindAll", req); err != nil {
		return nil, err
	}
	return m.collection(req.Type, pageParams(req.Query))
}

// FindMany returns the records of req.IDs it holds, in the order asked.
func (m *MemoryAdapter) FindMany(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := m.begin(ctx, "FindMany", req); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []json.RawMessage
	for _, id := range req.IDs {
		if r, ok := m.records[modelType(req.Type)][id]; ok {
			out = append(out, m.linked(r))
		}
	}
	return document(list(out)), nil
}

// Query returns the records of req.Type whose attributes match every
// filter[member]=value parameter of req.Query (compared as text), in load
// order, paged as FindAll pages. Other parameters are ignored.
func (m *MemoryAdapter) Query(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := m.begin(ctx, "Query", req); err != nil {
		return nil, err
	}
	return m.collection(req.Type, req.Query)
}

// QueryRecord returns the first record Query would, or {"data": null}.
func (m *MemoryAdapter) QueryRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := m.begin(ctx, "QueryRecord", req); err != nil {
		return nil, err
	}
	var d struct{ Data []json.RawMessage }
	_ = json.Unmarshal(m.matching(req.Type, req.Query), &d)
	if len(d.Data) == 0 {
		return document("null"), nil
	}
	return document(string(d.Data[0])), nil
}

func (m *MemoryAdapter) matching(typ string, query map[string][]string) []byte {
	return document(list(m.matched(typ, query)))
}

// matched lists the records of typ that match query's filters, in load
// order.
func (m *MemoryAdapter) matched(typ string, query map[string][]string) []json.RawMessage {
	filters := map[string]string{}
	for k, v := range query {
		if member, ok := strings.CutPrefix(k, "filter["); ok && strings.HasSuffix(member, "]") && len(v) > 0 {
			filters[strings.TrimSuffix(member, "]")] = v[0]
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	typ = modelType(typ)
	var out []json.RawMessage
	for _, id := range m.order[typ] {
		r, ok := m.records[typ][id]
		if ok && matches(r, filters) {
			out = append(out, m.linked(r))
		}
	}
	return out
}

func matches(r json.RawMessage, filters map[string]string) bool {
	if len(filters) == 0 {
		return true
	}
	var res struct {
		Attributes map[string]any `json:"attributes"`
	}
	if json.Unmarshal(r, &res) != nil {
		return false
	}
	for k, want := range filters {
		if fmt.Sprint(res.Attributes[k]) != want {
			return false
		}
	}
	return true
}

// CreateRecord stores the resource in req.Body's data, giving it the next
// numeric id unless it has one, and returns it.
func (m *MemoryAdapter) CreateRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := m.begin(ctx, "CreateRecord", req); err != nil {
		return nil, err
	}
	var d struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(req.Body, &d); err != nil || d.Data == nil {
		return nil, fmt.Errorf("recstoretest: CreateRecord: the body is not a JSON:API document: %w", errors.Join(err, errors.New("no data")))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := d.Data["id"]; !ok {
		m.lastID++
		d.Data["id"] = json.RawMessage(strconv.Quote(strconv.Itoa(m.lastID)))
	}
	if _, ok := d.Data["type"]; !ok {
		d.Data["type"] = json.RawMessage(strconv.Quote(req.Type))
	}
	r, _ := json.Marshal(d.Data)
	_, id, err := identify(r)
	if err != nil {
		return nil, err
	}
	m.put(modelType(req.Type), id, r)
	return document(string(m.linked(r))), nil
}

// UpdateRecord merges req.Body's attributes and relationships into the
// record req.ID and returns it.
func (m *MemoryAdapter) UpdateRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	if err := m.begin(ctx, "UpdateRecord", req); err != nil {
		return nil, err
	}
	var d struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(req.Body, &d); err != nil {
		return nil, fmt.Errorf("recstoretest: UpdateRecord: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	typ := modelType(req.Type)
	old, ok := m.records[typ][req.ID]
	if !ok {
		return nil, notFound(req.Type, req.ID)
	}
	var cur map[string]json.RawMessage
	_ = json.Unmarshal(old, &cur)
	for _, member := range []string{"attributes", "relationships"} {
		var have, add map[string]json.RawMessage
		_ = json.Unmarshal(cur[member], &have)
		if json.Unmarshal(d.Data[member], &add) != nil || add == nil {
			continue
		}
		if have == nil {
			have = map[string]json.RawMessage{}
		}
		maps.Copy(have, add)
		cur[member], _ = json.Marshal(have)
	}
	r, _ := json.Marshal(cur)
	m.put(typ, req.ID, r)
	return document(string(m.linked(r))), nil
}

// DeleteRecord removes the record req.ID, or fails as FindRecord does.
func (m *MemoryAdapter) DeleteRecord(ctx context.Context, req *recstore.Request) error {
	if err := m.begin(ctx, "DeleteRecord", req); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	typ := modelType(req.Type)
	if _, ok := m.records[typ][req.ID]; !ok {
		return notFound(req.Type, req.ID)
	}
	delete(m.records[typ], req.ID)
	m.order[typ] = slices.DeleteFunc(m.order[typ], func(id string) bool { return id == req.ID })
	return nil
}

// pathType maps a URL path segment ("github-handles") to a model type.
func pathType(segment string) string { return inflect.Dasherize(modelType(segment)) }
