// Package recstoretest helps test code that uses recstore, and Adapters
// written for it: an in-memory Adapter loaded from fixtures, a JSON:API
// test server backed by the same fixtures, and a conformance check any
// Adapter can run.
//
// Tests of writes (creates, updates, deletes) get a backend that answers
// as a JSON:API server does, in memory or over HTTP: a body that is not a
// JSON:API document is a 400 and a taken id a 409, with error objects
// pointing at the member at fault; [MemoryAdapter.OnSave] validates a
// record ([Invalid] makes the 422) or changes it as a server would;
// [MemoryAdapter.NoContent] answers a save with nothing (204); and
// [MemoryAdapter.FailNext] makes the next calls fail, so that a test of
// retries can fail a save once and then let it succeed.
package recstoretest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
// (Delay) or made to fail (Fail, or FailNext for the next calls of one
// method). Its collections are paged on request, with pagination links,
// and its relationships can carry links (RelationshipLinks); FindLink and
// NewServer answer both. It takes writes as a JSON:API server does (see
// CreateRecord, UpdateRecord and DeleteRecord), refusing bad bodies with
// a 400 or 409, and OnSave and NoContent act out the server's side of a
// save: validation (Invalid), changes it makes, an answer with no
// content. Load fills it from fixtures. Its zero value is an empty
// backend ready to use, and it is safe for concurrent use; set its
// fields before use, and call FailNext at any time.
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
	// OnSave, if not nil, is called by CreateRecord and UpdateRecord (op)
	// with the resource object about to be stored: for a create, the
	// body's data without its lid, with no id unless the client chose one;
	// for an update, the record with the body's attributes and
	// relationships merged in. resource["attributes"] is always a
	// map[string]any, and numbers are json.Number. OnSave acts out the
	// server's side of a save. It may change resource, as a server that
	// sets an updated-at or trims a title does: the change is stored and
	// answered. Or it may refuse the save with an error, which is the
	// call's and stores nothing: return Invalid(...) for a 422 with
	// pointers to the invalid members, Conflict(...) for a 409. It is
	// called without m's lock held, so it may call m's methods, and
	// concurrently when the calls are.
	OnSave func(op string, req *recstore.Request, resource map[string]any) error
	// NoContent makes UpdateRecord answer nothing, (nil, nil), and
	// NewServer a 204 No Content, when the backend changed nothing beyond
	// what the request asked, as a JSON:API server may; so does
	// CreateRecord for a record whose id the client chose. A save that
	// OnSave changed is answered with the record (200, 201), as JSON:API
	// requires. Off, every save is answered with the record.
	NoContent bool

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

// CreateRecord stores the resource object in req.Body's data, giving it
// the next numeric id unless the client chose one, and returns it, with
// the data's lid (a JSON:API 1.1 local id), which is not stored. The
// data's type may be plural or singular, or left out. As a JSON:API
// server does, it refuses with a *recstore.BackendError: a body that is
// not a JSON:API document with a resource object as data with a 400
// (errors.Is recstore.ErrInvalid; its error object's Source.Pointer
// names the member at fault, none if the body is not JSON), and an id
// the backend holds already, or a type that is not req.Type's, with a
// 409 (recstore.ErrConflict, pointing at /data/id or /data/type).
// OnSave may change or refuse the record, and NoContent answer nothing.
func (m *MemoryAdapter) CreateRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	const op = "CreateRecord"
	if err := m.begin(ctx, op, req); err != nil {
		return nil, err
	}
	res, err := decodeBody(req.Body)
	if err != nil {
		return nil, err
	}
	typ := modelType(req.Type)
	if err := sameType(res, typ); err != nil {
		return nil, err
	}
	if _, ok := res["type"]; !ok {
		res["type"] = req.Type
	}
	lid, hasLID := res["lid"]
	delete(res, "lid")
	_, clientID := res["id"]
	changed, err := m.onSave(op, req, res)
	if err != nil {
		return nil, err
	}
	id, _ := idText(res["id"])
	m.mu.Lock()
	defer m.mu.Unlock()
	if id == "" {
		m.lastID++
		id = strconv.Itoa(m.lastID)
		res["id"] = id
	} else if _, ok := m.records[typ][id]; ok {
		return nil, refusal(http.StatusConflict, "Conflict", "/data/id", fmt.Sprintf("%s %q exists already", req.Type, id))
	}
	r, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("recstoretest: %s: OnSave left a resource that is not JSON: %w", op, err)
	}
	m.put(typ, id, r)
	if m.NoContent && clientID && !changed {
		return nil, nil
	}
	out := m.linked(r)
	if hasLID {
		// JSON:API 1.1: the answer names the local id the client sent, so
		// that it can tell which of its new records this is.
		var served map[string]json.RawMessage
		_ = json.Unmarshal(out, &served)
		served["lid"], _ = json.Marshal(lid)
		out, _ = json.Marshal(served)
	}
	return document(string(out)), nil
}

// UpdateRecord merges the attributes and relationships of req.Body's data
// into the record req.ID, each member replacing the one of that name,
// and returns the record. A record the backend does not hold is a 404,
// whatever the body; a body CreateRecord would refuse with a 400 is
// refused so here, and data whose type or id is not the record's with a
// 409. OnSave may change or refuse the record, and NoContent answer
// nothing.
func (m *MemoryAdapter) UpdateRecord(ctx context.Context, req *recstore.Request) ([]byte, error) {
	const op = "UpdateRecord"
	if err := m.begin(ctx, op, req); err != nil {
		return nil, err
	}
	typ := modelType(req.Type)
	m.mu.Lock()
	old, ok := m.records[typ][req.ID]
	m.mu.Unlock()
	if !ok {
		return nil, notFound(req.Type, req.ID)
	}
	data, err := decodeBody(req.Body)
	if err != nil {
		return nil, err
	}
	if err := sameType(data, typ); err != nil {
		return nil, err
	}
	if id, ok := data["id"]; ok {
		if s, _ := idText(id); s != req.ID {
			return nil, refusal(http.StatusConflict, "Conflict", "/data/id", fmt.Sprintf("id %v is not %q", id, req.ID))
		}
	}
	cur, err := decodeObject(old)
	if err != nil {
		return nil, fmt.Errorf("recstoretest: %s: stored %s %s: %w", op, req.Type, req.ID, err)
	}
	for _, member := range []string{"attributes", "relationships"} {
		add, ok := data[member].(map[string]any)
		if !ok {
			continue
		}
		have, _ := cur[member].(map[string]any)
		if have == nil {
			have = map[string]any{}
		}
		maps.Copy(have, add)
		cur[member] = have
	}
	if _, ok := cur["attributes"].(map[string]any); !ok {
		cur["attributes"] = map[string]any{}
	}
	changed, err := m.onSave(op, req, cur)
	if err != nil {
		return nil, err
	}
	r, err := json.Marshal(cur)
	if err != nil {
		return nil, fmt.Errorf("recstoretest: %s: OnSave left a resource that is not JSON: %w", op, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.records[typ][req.ID]; !ok {
		return nil, notFound(req.Type, req.ID) // deleted while OnSave ran
	}
	m.put(typ, req.ID, r)
	if m.NoContent && !changed {
		return nil, nil
	}
	return document(string(m.linked(r))), nil
}

// onSave runs OnSave on res and reports whether it changed res.
func (m *MemoryAdapter) onSave(op string, req *recstore.Request, res map[string]any) (changed bool, err error) {
	if m.OnSave == nil {
		return false, nil
	}
	before, _ := json.Marshal(res) // map keys are sorted: equal maps give equal bytes
	if err := m.OnSave(op, req, res); err != nil {
		return false, err
	}
	after, _ := json.Marshal(res)
	return !bytes.Equal(before, after), nil
}

// decodeBody returns the resource object that is the primary data of a
// write's JSON:API document, with an attributes object (made empty if
// it had none), or the 400 refusal a JSON:API server answers a body
// that is not one with, pointing at the member at fault.
func decodeBody(body []byte) (map[string]any, error) {
	bad := func(pointer, detail string, err error) error {
		be := refusal(http.StatusBadRequest, "Bad Request", pointer, detail)
		be.Err = err
		return be
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	err := dec.Decode(&doc)
	if err == nil && dec.Decode(new(any)) != io.EOF {
		err = errors.New("data after the document")
	}
	if err != nil {
		return nil, bad("", "the body is not JSON: "+err.Error(), err)
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, bad("", "the body is not a JSON:API document: it is not an object", nil)
	}
	data, ok := top["data"].(map[string]any)
	if !ok {
		return nil, bad("/data", "the document's data is not a resource object", nil)
	}
	if t, ok := data["type"]; ok {
		if s, _ := t.(string); s == "" {
			return nil, bad("/data/type", "type is not a non-empty string", nil)
		}
	}
	for _, member := range []string{"id", "lid"} {
		if v, ok := data[member]; ok {
			if _, ok := idText(v); !ok {
				return nil, bad("/data/"+member, member+" is not a non-empty string", nil)
			}
		}
	}
	for _, member := range []string{"attributes", "relationships"} {
		if v, ok := data[member]; ok {
			if _, ok := v.(map[string]any); !ok {
				return nil, bad("/data/"+member, member+" is not an object", nil)
			}
		}
	}
	if _, ok := data["attributes"]; !ok {
		data["attributes"] = map[string]any{}
	}
	return data, nil
}

// decodeObject decodes a stored resource object, numbers as json.Number.
func decodeObject(r json.RawMessage) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	var res map[string]any
	err := dec.Decode(&res)
	return res, err
}

// idText returns an id's text: a non-empty string, or a number as
// written (JSON:API ids are strings; fixtures may use numbers).
func idText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, v != ""
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// sameType refuses, with a 409 as JSON:API says, data whose type is not
// typ, in plural or singular.
func sameType(data map[string]any, typ string) error {
	if t, ok := data["type"].(string); ok && modelType(t) != typ {
		return refusal(http.StatusConflict, "Conflict", "/data/type", fmt.Sprintf("type %q is not %q", t, typ))
	}
	return nil
}

// DeleteRecord removes the record req.ID, or fails as FindRecord does
// (a 404 for a record it does not hold); NewServer answers a DELETE it
// succeeds in with 204 No Content.
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
