package recstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"unsafe"
)

// Save sends the record k's local state to the backend through the
// type's Adapter and Serializer, as Ember Data's save does, and returns
// the key the record goes by afterwards (with its new id, for a record
// created without one):
//
//   - a record created here (StatusCreated) is created: the Adapter must
//     be a Creator;
//   - a record marked by Delete (StatusDeleted) is deleted: a Deleter;
//   - any other is updated, changed or not: an Updater.
//
// While the call is in flight the record's State says Saving, and the
// changes being sent are still reported as changes; edits made meanwhile
// stay local changes on top of them, and pushes and reloads that arrive
// meanwhile update the backend's values without touching either. A
// success makes what was sent the backend's values and merges the
// answer, if any (an empty one, such as a 204, just confirms): attributes
// the answer carries become the backend's, a created record takes the id
// the answer gives it (k, a local identifier, goes on naming it), and
// included records are pushed, all at once. A saved deletion leaves the
// record as StatusDeletedSaved.
//
// A failure leaves every change in place, so a later Save retries it,
// and returns an *AdapterError (a Save that never started, because ctx
// ended or Close came while it waited its turn, returns ctx's error or
// ErrClosed instead). A refusal as invalid (errors.Is
// ErrInvalid, such as a 422) records the backend's error objects, mapped
// to attribute and relationship names by the Serializer (see
// [Store.ExtractErrors]), in State.Errors; another failure is kept as
// State.Err. An answer the Store cannot use is such a failure too,
// wrapping ErrBadResponse: malformed, a list, another record (also
// ErrWrongRecord), a create answered with no id. The backend's write may
// have landed then, so a retry may repeat it.
//
// Saves of one record run one after another, never interleaved: a Save
// made while another is in flight waits for it, as long as ctx allows.
// Close fails the Saves that are waiting with ErrClosed and waits for
// those in flight, which it does not cancel: a write the backend may
// have made should be known to have landed or not. ctx bounds the whole
// call, the Adapter's included. A panic in the Adapter or Serializer is
// recovered and returned as an error wrapping a *PanicError, and leaves
// the record retryable.
func (s *Store) Save(ctx context.Context, k Key) (Key, error) {
	t := s.lookupType(k.Type)
	if t == nil {
		return k, fmt.Errorf("%w %q", ErrUnknownType, k.Type)
	}
	e := t.entry(k.ID)
	if e == nil || !e.loaded() {
		return k, fmt.Errorf("recstore: save %v: %w", k, ErrNotLoaded)
	}
	release, err := s.saveTurn(ctx, t, e)
	if err != nil {
		return Key{t.name, e.id}, err
	}
	defer release()
	if ne := s.liveEntry(t, e); ne != nil {
		e = ne // the save it waited for gave the record its id
	}
	return s.save(ctx, t, e)
}

// Save saves the record id and returns it as the Store holds it
// afterwards, saved or, with the error, as it was left for a retry; see
// [Store.Save].
func (m *Model[T]) Save(ctx context.Context, id string) (T, error) {
	k, err := m.s.Save(ctx, Key{m.t.name, id})
	out, _ := m.Peek(k.ID)
	return out, err
}

// Destroy deletes the record k from the backend and then unloads it:
// Delete, Save and Unload, as Ember Data's destroyRecord. A record
// never saved is just unloaded. If the save fails the record stays
// marked for deletion, and the error is the save's.
func (s *Store) Destroy(ctx context.Context, k Key) error {
	st := s.State(k)
	if err := s.Delete(k); err != nil {
		return err
	}
	if st.Status == StatusCreated {
		return nil // never saved: Delete unloaded it
	}
	nk, err := s.Save(ctx, k)
	if err != nil {
		return err
	}
	if err := s.Unload(nk); err != nil && !errors.Is(err, ErrNotLoaded) {
		return err
	}
	return nil
}

// Destroy deletes the record id from the backend and unloads it; see
// [Store.Destroy].
func (m *Model[T]) Destroy(ctx context.Context, id string) error {
	return m.s.Destroy(ctx, Key{m.t.name, id})
}

// A saveQueue orders the saves of one record: its channel holds one token
// while a save runs, and waiting counts the saves running or waiting, so
// that the last one out removes the queue.
type saveQueue struct {
	turn    chan struct{}
	waiting int
}

// saveTurn waits until no other save of e's record runs, then counts the
// caller as running for Close. It fails when ctx ends or the Store closes
// first. A record created without an id queues by its local identifier,
// which names it before and after a save gives it an id.
func (s *Store) saveTurn(ctx context.Context, t *table, e *entry) (release func(), err error) {
	qk := Key{t.name, e.id}
	if lid := t.lidOf(e); lid != "" {
		qk.ID = lid
	}
	s.flightMu.Lock()
	if s.life.Err() != nil {
		s.flightMu.Unlock()
		return nil, ErrClosed
	}
	if s.saves == nil {
		s.saves = map[Key]*saveQueue{}
	}
	q := s.saves[qk]
	if q == nil {
		q = &saveQueue{turn: make(chan struct{}, 1)}
		s.saves[qk] = q
	}
	q.waiting++
	s.flightMu.Unlock()
	leave := func() {
		s.flightMu.Lock()
		if q.waiting--; q.waiting == 0 {
			delete(s.saves, qk)
		}
		s.flightMu.Unlock()
	}
	select {
	case q.turn <- struct{}{}:
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	case <-s.life.Done():
		leave()
		return nil, ErrClosed
	}
	s.flightMu.Lock()
	if s.life.Err() != nil {
		// Closed while it waited: Close may be waiting for running saves
		// already, and this one has not started.
		s.flightMu.Unlock()
		<-q.turn
		leave()
		return nil, ErrClosed
	}
	s.running++
	s.flightMu.Unlock()
	return func() {
		s.flightMu.Lock()
		s.running--
		s.idle.Broadcast()
		s.flightMu.Unlock()
		<-q.turn
		leave()
	}, nil
}

// saveOp names the Adapter method a save of a record in state st calls.
func saveOp(st *recState) string {
	switch {
	case st != nil && st.deleted:
		return "DeleteRecord"
	case st != nil && st.isNew:
		return "CreateRecord"
	}
	return "UpdateRecord"
}

// save runs one save of e; the caller holds e's turn.
func (s *Store) save(ctx context.Context, t *table, e *entry) (Key, error) {
	snap, op, err := s.beginSave(t, e)
	if err != nil || snap == nil {
		return Key{t.name, e.id}, err
	}
	// Once the backend said yes, the answer lands whatever ctx says now:
	// failing it would make a retry create the record twice.
	// Numbered as loads are: an Invalidate while the save is under way
	// leaves the record invalidated when the answer lands (the answer
	// may predate the change another party made).
	lr := s.beginLoad(&Request{})
	defer s.endLoad(lr)
	payload, err := s.sendSave(ctx, t, snap, op)
	if err == nil {
		if err = s.confirmSave(t, e, op, payload, lr.inv); err == nil {
			return Key{t.name, s.entryID(t, e)}, nil
		}
	}
	id := snap.Key.ID
	if id == "" {
		id = snap.LID
	}
	aerr := &AdapterError{Op: op, Type: t.name, ID: id, Err: err}
	s.failSave(t, e, err)
	return Key{t.name, s.entryID(t, e)}, aerr
}

// entryID returns the id e's record goes by now: its own, or, once a
// save has given it an id, that one.
func (s *Store) entryID(t *table, e *entry) string {
	if lid := t.lidOf(e); lid != "" {
		if ne := t.aliased(lid); ne != nil {
			return ne.id
		}
	}
	return e.id
}

// beginSave marks e's record as in flight and returns the Snapshot to
// send, or nil when there is nothing to send (a deletion saved already).
func (s *Store) beginSave(t *table, e *entry) (*Snapshot, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := e.cur.Load()
	if v == nil || v.val == nil {
		return nil, "", fmt.Errorf("recstore: save %s %q: %w", t.name, e.id, ErrNotLoaded)
	}
	if v.st != nil && v.st.gone {
		return nil, "", nil
	}
	op := saveOp(v.st)
	ad := s.adapterFor(t)
	if ad == nil {
		return nil, op, &AdapterError{Op: op, Type: t.name, ID: e.id, Err: ErrNoAdapter}
	}
	var ok bool
	switch op {
	case "CreateRecord":
		_, ok = capability[Creator](ad)
	case "UpdateRecord":
		_, ok = capability[Updater](ad)
	default:
		_, ok = capability[Deleter](ad)
	}
	if !ok {
		return nil, op, &AdapterError{Op: op, Type: t.name, ID: e.id, Err: ErrNotSupported}
	}
	snap := s.snapshotOf(t, e, v)
	c := newCommit(s, CauseLocal)
	defer c.abort()
	d := c.draftOf(t, e)
	st := c.state(d)
	st.saving = true
	st.flyDelete = op == "DeleteRecord"
	st.fly = v.val
	st.flySet = st.local.clone()
	st.flyRels = nil
	for _, cs := range st.canon {
		if op == "DeleteRecord" || !snap.rels[cs.tag-1].Known || t.rels[cs.tag-1].many && !snap.rels[cs.tag-1].SerializeHasMany() {
			// Not sent (a has-many whose inverse is a to-one is the other
			// side's to save, as in Ember): its change stays local.
			continue
		}
		cur := *v.rel(int(cs.tag) - 1)
		cur.tag = cs.tag
		st.flyRels = append(st.flyRels, cur)
	}
	st.errs, st.err = nil, nil
	c.publish()
	return snap, op, nil
}

// sendSave serializes snap and calls the Adapter, on a goroutine of its
// own, so that a panic in either becomes an error.
func (s *Store) sendSave(ctx context.Context, t *table, snap *Snapshot, op string) (payload []byte, err error) {
	err = recovering(op, func() error {
		ad := s.adapterFor(t)
		req := &Request{Type: t.name, ID: snap.Key.ID, store: s}
		if op != "DeleteRecord" {
			rs, ok := s.SerializerFor(t.name).(RecordSerializer)
			if !ok {
				return ErrNotSerializable
			}
			body, err := rs.Serialize(s, snap, SerializeOptions{IncludeID: snap.Key.ID != ""})
			if err != nil {
				return err
			}
			req.Body = body
		}
		return s.calling(ctx, op, t.name, func() (err error) {
			switch op {
			case "CreateRecord":
				c, _ := capability[Creator](ad)
				payload, err = c.CreateRecord(ctx, req)
			case "UpdateRecord":
				u, _ := capability[Updater](ad)
				payload, err = u.UpdateRecord(ctx, req)
			default:
				d, _ := capability[Deleter](ad)
				err = d.DeleteRecord(ctx, req)
			}
			return err
		})
	})
	return payload, err
}

// confirmSave makes a successful save's values the backend's and merges
// its answer, in one push.
func (s *Store) confirmSave(t *table, e *entry, op string, payload []byte, inv uint64) error {
	confirm := func(c *commit, id string) error {
		if ne := s.liveEntry(t, e); ne != nil {
			e = ne // a push gave it its id while it was saved (see assignID)
		}
		d := c.draftOf(t, e)
		if d.v == nil || d.v.val == nil {
			return fmt.Errorf("recstore: %s %s %q: unloaded while saving: %w", op, t.name, e.id, ErrNotLoaded)
		}
		var err error
		if id != "" && id != e.id {
			if t.lidOf(e) != e.id {
				return fmt.Errorf("%w: the answer to %s is for %s %q, not %q", ErrWrongRecord, op, t.name, id, e.id)
			}
			if d, err = c.assignID(d, id); err != nil {
				return err
			}
		} else if op == "CreateRecord" && t.lidOf(e) == e.id {
			return fmt.Errorf("%w: the answer to CreateRecord gives the record no id", ErrBadResponse)
		}
		return c.confirm(d, op)
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		s.mu.Lock()
		defer s.mu.Unlock()
		c := newCommit(s, CauseSave)
		c.inv, c.numbered = inv, true
		defer c.abort()
		if err := confirm(c, ""); err != nil {
			return err
		}
		c.publish()
		return nil
	}
	var id string
	err := recovering("PushPayload", func() error {
		return s.pushPayloadWith(t.name, payload, nil, func(doc *Document) error {
			switch {
			case doc.Many:
				return fmt.Errorf("%w: the answer to %s holds a list of %d records, not the one saved", ErrBadResponse, op, len(doc.Data))
			case len(doc.Data) == 0:
				// No primary data ({"meta": ...}): a confirmation.
			case len(doc.Data) > 1:
				return fmt.Errorf("%w: the answer to %s holds %d records, not the one saved", ErrBadResponse, op, len(doc.Data))
			case doc.Data[0].Type != t.name:
				return fmt.Errorf("%w: the answer to %s is a %q, not a %q", ErrWrongRecord, op, doc.Data[0].Type, t.name)
			default:
				id = doc.Data[0].ID
			}
			return nil
		}, func(c *commit) error {
			c.cause = CauseSave // the answer confirms a save: no mere push
			c.inv, c.numbered = inv, true
			return confirm(c, id)
		}, nil)
	})
	if err != nil && !errors.Is(err, ErrBadResponse) {
		// The backend said yes with an answer the Store cannot use.
		err = fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return err
}

// confirm makes what d's save sent the backend's values: attributes and
// relationships in flight become canonical (inverses follow, on their
// canonical side), a created record is new no more, a deleted one is
// gone and leaves the relationships that name it.
func (c *commit) confirm(d *draft, op string) error {
	t := d.t
	st := c.state(d)
	d.loaded = op != "DeleteRecord" // the backend holds what was saved
	c.loads = c.loads || d.loaded
	t.saved.Store(d.e, c.s.saveSeq.Add(1))
	t.hasSaved.Store(true)
	if st.fly != nil && !st.flySet.empty() {
		r := t.newValue()
		t.copyValue(r, st.remote)
		for i := range t.attrs {
			if st.flySet.has(i) {
				a := &t.attrs[i]
				a.set(unsafe.Add(r, a.off), unsafe.Add(st.fly, a.off))
			}
		}
		st.remote = r
		d.ownRem = true
	}
	fly := st.flyRels
	flySet := st.flySet
	st.saving, st.fly, st.flySet, st.flyRels, st.flyDelete = false, nil, bitset{}, nil, false
	for i := range t.attrs {
		if st.local.has(i) || flySet.has(i) {
			st.setDirty(t, i, d.v.val)
		}
	}
	st.isNew = false
	// In this commit (not a local one) a relationship changed locally is
	// changed in its canonical layer: what was sent becomes canonical.
	for _, fs := range fly {
		ri := int(fs.tag) - 1
		if _, ok := st.canonRel(ri); !ok {
			continue // rolled back or made canonical meanwhile
		}
		var err error
		if t.rels[ri].many {
			err = c.replaceMany(d, ri, fs.many)
		} else {
			err = c.replaceOne(d, ri, fs.one)
		}
		if err != nil {
			return err
		}
		st = c.state(d)
	}
	if op == "DeleteRecord" {
		st.gone = true
		st.deleted = true
		return c.leave(d)
	}
	return nil
}

// failSave ends a failed save: the changes it sent stay local changes,
// and the error is kept in the record's State.
func (s *Store) failSave(t *table, e *entry, err error) {
	var errs map[string][]string
	if errors.Is(err, ErrInvalid) {
		// From any adapter: a *BackendError carries error objects; a bare
		// ErrInvalid says only that the record as a whole was refused.
		var be *BackendError
		if errors.As(err, &be) {
			_ = recovering("ExtractErrors", func() error {
				errs = s.ExtractErrors(t.name, be.Errors)
				return nil
			})
		}
		if len(errs) == 0 {
			errs = map[string][]string{BaseErrors: {"is invalid"}}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e = s.liveEntry(t, e); e == nil {
		return
	}
	c := newCommit(s, CauseLocal)
	defer c.abort()
	d := c.draftOf(t, e)
	st := c.state(d)
	if st.flyDelete {
		st.deleted = true // a Rollback meanwhile did not undo the delete
	}
	flySet := st.flySet
	st.saving, st.fly, st.flySet, st.flyRels, st.flyDelete = false, nil, bitset{}, nil, false
	for i := range t.attrs {
		if flySet.has(i) {
			// What was sent and not taken is a local change again.
			st.setDirty(t, i, d.v.val)
		}
	}
	if errs != nil {
		st.errs, st.err = errs, nil
	} else {
		st.errs, st.err = nil, err
	}
	c.publish()
}

// liveEntry returns the entry e's record is under now (a new one once a
// save gave it an id), or nil if it is gone. Called with Store.mu held.
func (s *Store) liveEntry(t *table, e *entry) *entry {
	if lid := t.lidOf(e); lid != "" {
		if ne := t.aliased(lid); ne != nil {
			e = ne
		}
	}
	if !e.loaded() {
		return nil
	}
	return e
}
