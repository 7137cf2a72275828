package recstore

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// An Expiry is a time-based cache policy for [Store.Find]: how long after
// a record was loaded it is served with no call to the backend, and how
// long it may be served at all. Give one to a Store (Options.Expiry) or to
// one model (ModelOptions.Expiry). Without one, Find follows the Adapter's
// ReloadPolicy: Ember Data's by default, which serves every cached record
// and reloads it in the background (see [EmberReloadPolicy]).
//
// An Expiry governs Find of one record. FindAll follows the ReloadPolicy's
// ShouldReloadAll and ShouldBackgroundReloadAll, as in Ember Data: a
// collection has no load time of its own.
//
// A record counts as loaded whenever the backend's data for it reaches the
// Store, however it arrived: Find, FindMany, FindAll, Query, a related
// link, a save's answer, a record included in any of them, Push and
// PushPayload. A record created here and not saved yet was never loaded
// and never expires.
type Expiry struct {
	// Soft is how long after it was loaded a record is fresh: Find serves
	// it with no call. Past it, Find serves the record and reloads it in
	// the background. 0 makes records stale as soon as they are loaded.
	Soft time.Duration
	// Hard is how long after it was loaded a record may be served: past
	// it, Find reloads the record before answering. 0 means no limit: a
	// stale record is served however old, while it is reloaded. A Hard
	// below Soft counts as Soft.
	Hard time.Duration
	// FromHeaders lets an answer's own expiry, which an Adapter reports
	// with [Request.SetMaxAge] (HTTPAdapter does, from Cache-Control and
	// Expires), replace Soft and Hard for the records the answer brought,
	// as WarpDrive's CachePolicy does: fresh for max-age, then served
	// while reloaded for stale-while-revalidate, and reloaded before
	// answering after that; no-cache and no-store make them expired at
	// once. It is off by default, because many backends send
	// "no-cache" on every answer, which would turn the cache off.
	FromHeaders bool
}

// Freshness is what the Store knows of how fresh a record is. Find acts on
// it when the record's type has an Expiry; a ReloadPolicy sees it in
// [Snapshot.Freshness]; [Model.PeekFreshness] returns it beside the
// record.
type Freshness struct {
	// LoadedAt is when the backend's data for the record last reached the
	// Store, by the Store's clock (Options.Clock); zero for a record never
	// loaded, such as one created here and not saved yet.
	LoadedAt time.Time
	// SoftExpires and HardExpires are when the record goes stale and when
	// it expires, from its type's Expiry or its answer's headers; zero
	// when there is no such time (no Expiry, Hard 0, never loaded).
	SoftExpires, HardExpires time.Time
	// Stale reports a record past its soft expiry: Find serves it and
	// reloads it in the background.
	Stale bool
	// Expired reports a record past its hard expiry: Find reloads it
	// before answering. An expired record is stale too.
	Expired bool
	// Invalidated reports a record [Store.Invalidate] marked: it is stale
	// and expired, under any policy, until it is loaded again.
	Invalidated bool
}

// maxAge is an answer's expiry as its Adapter reported it.
type maxAge struct {
	set          bool
	fresh, stale time.Duration
}

// SetMaxAge tells the Store how long the records of this answer may be
// served, as HTTP's Cache-Control does: fresh for fresh (max-age), then
// served while reloaded in the background for stale more
// (stale-while-revalidate), then reloaded before Find answers. A fresh of
// 0 or less makes them expire at once (no-cache). The Store uses it only
// for types whose Expiry has FromHeaders set. An Adapter calls it before
// its call returns, on the Request it was given; HTTPAdapter does so from
// each answer's Cache-Control and Expires headers.
func (r *Request) SetMaxAge(fresh, stale time.Duration) {
	r.maxAge = maxAge{set: true, fresh: max(fresh, 0), stale: max(stale, 0)}
}

// MaxAge returns what SetMaxAge set, and whether it was called.
func (r *Request) MaxAge() (fresh, stale time.Duration, ok bool) {
	return r.maxAge.fresh, r.maxAge.stale, r.maxAge.set
}

// withAge returns a commit step that gives the answer's expiry to the
// push of r's answer, or nil when the Adapter set none.
func (r *Request) withAge() func(*commit) error {
	if r == nil || !r.maxAge.set && r.since == 0 {
		return nil
	}
	age, since, inv := r.maxAge, r.since, r.inv
	return func(c *commit) error {
		c.maxAge, c.since = age, since
		c.inv, c.numbered = inv, since != 0
		return nil
	}
}

// cacheHeaders reads an answer's freshness from its Cache-Control, Expires,
// Date and Age headers, as a private HTTP cache would (RFC 9111): max-age
// wins over Expires; no-store and no-cache mean none; Age, a shared
// cache's, is taken off. ok is false when the headers say nothing.
func cacheHeaders(h http.Header) (fresh, stale time.Duration, ok bool) {
	cc := h.Values("Cache-Control")
	maxAgeSet := false
	for _, line := range cc {
		for _, d := range strings.Split(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			val = strings.Trim(strings.TrimSpace(val), `"`)
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0, 0, true
			case "max-age":
				if n, err := strconv.ParseInt(val, 10, 64); err == nil && n >= 0 {
					fresh, maxAgeSet, ok = seconds(n), true, true
				}
			case "stale-while-revalidate":
				if n, err := strconv.ParseInt(val, 10, 64); err == nil && n >= 0 {
					stale = seconds(n)
				}
			}
		}
	}
	if !maxAgeSet {
		exp := h.Get("Expires")
		if exp == "" {
			return 0, 0, false
		}
		at, err := http.ParseTime(exp)
		if err != nil {
			return 0, 0, true // an invalid Expires means already expired (RFC 9111 §5.3)
		}
		date, err := http.ParseTime(h.Get("Date"))
		if err != nil {
			date = time.Now()
		}
		fresh, ok = min(max(at.Sub(date), 0), seconds(1<<31)), true
	}
	if age, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && age > 0 {
		fresh = max(fresh-seconds(age), 0)
	}
	return fresh, stale, ok
}

// seconds converts n seconds to a Duration, at most 2^31 seconds (about
// 68 years), as RFC 9111 §1.2.2 caps delta-seconds.
func seconds(n int64) time.Duration {
	return time.Duration(min(n, 1<<31)) * time.Second
}

// addSat returns at+d, saturating at the int64 bounds: a duration of
// "forever" must not wrap into the past.
func addSat(at int64, d time.Duration) int64 {
	if d > 0 && at > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return at + int64(d)
}

// deadlines are one record's soft and hard expiry from its answer's
// headers, as clock UnixNano; 0 means none.
type deadlines struct{ soft, hard int64 }

// now returns the Store's clock's time.
func (s *Store) now() time.Time {
	if s.opts.Clock != nil {
		return s.opts.Clock()
	}
	return time.Now()
}

// expiryOf returns t's Expiry: its own, else the Store's, else nil.
func (t *table) expiryOf() *Expiry {
	if t.expiry != nil {
		return t.expiry
	}
	return t.s.opts.Expiry
}

// freshness computes e's Freshness at now.
func (t *table) freshness(e *entry, now time.Time) Freshness {
	var f Freshness
	at := e.at.Load()
	f.Invalidated = e.meta.Load()&metaInvalid != 0
	if at != 0 {
		f.LoadedAt = time.Unix(0, at)
		if exp := t.expiryOf(); exp != nil {
			soft, hard := addSat(at, exp.Soft), int64(0)
			if exp.Hard > 0 {
				hard = addSat(at, max(exp.Hard, exp.Soft))
			}
			if exp.FromHeaders && t.hasDeadlines.Load() {
				if d, ok := t.deadlines.Load(e); ok {
					soft, hard = d.(deadlines).soft, d.(deadlines).hard
				}
			}
			f.SoftExpires = time.Unix(0, soft)
			f.Stale = !now.Before(f.SoftExpires)
			if hard != 0 {
				f.HardExpires = time.Unix(0, hard)
				f.Expired = !now.Before(f.HardExpires)
			}
		}
	}
	if f.Invalidated {
		f.Stale, f.Expired = true, true
	}
	return f
}

// Freshness returns how fresh the snapshot's record is now, for a
// ReloadPolicy that decides by age: the zero Freshness if the Store no
// longer holds it, or never did.
func (sn *Snapshot) Freshness() Freshness {
	if sn.t == nil || sn.Key.ID == "" && sn.LID == "" {
		return Freshness{}
	}
	id := sn.Key.ID
	if id == "" {
		id = sn.LID
	}
	e := sn.t.entry(id)
	if e == nil || !e.loaded() {
		return Freshness{}
	}
	return sn.t.freshness(e, sn.t.s.now())
}

// Freshness returns how fresh the record k is, or false if the Store does
// not hold it.
func (s *Store) Freshness(k Key) (Freshness, bool) {
	t := s.lookupType(k.Type)
	if t == nil {
		return Freshness{}, false
	}
	e := t.entry(k.ID)
	if e == nil || !e.loaded() {
		return Freshness{}, false
	}
	return t.freshness(e, s.now()), true
}

// PeekFreshness returns the record id as [Model.Peek] does, with how fresh
// it is: Peek serves a record whatever its age, and this says whether it
// is stale.
func (m *Model[T]) PeekFreshness(id string) (out T, f Freshness, ok bool) {
	out, ok = m.Peek(id)
	if !ok {
		return out, f, false
	}
	if e := m.t.entry(id); e != nil {
		f = m.t.freshness(e, m.s.now())
	}
	return out, f, true
}

// Invalidate marks the records keys as stale and expired, whatever their
// type's policy: the next Find of each reloads it before answering, and
// Freshness reports it Invalidated until it is loaded again. Peek still
// serves them. A load under way when Invalidate is called (a Find,
// FindMany, FindAll, Query, a link, included records), or a save, lands
// the records still invalidated, held before or not: its answer may
// predate the change. It is what a message from another replica, or an app that
// knows the backend changed, calls. Keys the Store does not hold are
// skipped; a type without a model is an error wrapping ErrUnknownType,
// and then nothing is marked.
func (s *Store) Invalidate(keys ...Key) error {
	es := make([]*entry, 0, len(keys))
	for _, k := range keys {
		t := s.lookupType(k.Type)
		if t == nil {
			return fmt.Errorf("invalidate: %w %q", ErrUnknownType, k.Type)
		}
		if e := t.entry(k.ID); e != nil && e.loaded() {
			es = append(es, e)
		}
	}
	seq := s.invSeq.Add(1)
	for _, k := range keys {
		s.lookupType(k.Type).invalidatedAt(s, k.ID, seq)
	}
	s.flightMu.Lock()
	for _, k := range keys {
		markInvalidated(s.flights[k])
	}
	s.flightMu.Unlock()
	for _, e := range es {
		e.setMeta(metaInvalid, true)
	}
	return nil
}

// InvalidateAll marks every record of the given types (of every type when
// none is given) as Invalidate does, as WarpDrive invalidates a type's
// cached requests once a record of it is created.
func (s *Store) InvalidateAll(types ...string) error {
	tables, err := s.tablesNamed(types)
	if err != nil {
		return fmt.Errorf("invalidate: %w", err)
	}
	seq := s.invSeq.Add(1)
	for _, t := range tables {
		t.invAll.Store(seq)
		t.hasInv.Store(true)
	}
	s.flightMu.Lock()
	for k, fs := range s.flights {
		if slices.ContainsFunc(tables, func(t *table) bool { return t.name == k.Type }) {
			markInvalidated(fs)
		}
	}
	s.flightMu.Unlock()
	for _, t := range tables {
		for _, e := range *t.order.Load() {
			if e.loaded() {
				e.setMeta(metaInvalid, true)
			}
		}
	}
	return nil
}

// markInvalidated marks Finds under way for an invalidated record: one
// may bring what the backend had before the change that made the caller
// invalidate, so what it lands stays invalidated. Called with flightMu
// held.
func markInvalidated(fs []*flight) {
	for _, f := range fs {
		f.invalidated = true
	}
}

// Loads under way when a record is invalidated (any load: Find, FindMany,
// FindAll, Query, links, included records) must not land it as fresh:
// their answers may predate the change that made it stale. Each load
// request carries Store.invSeq as it began (Request.inv); Invalidate
// numbers each call and notes, per record, the number of the last one
// (table.invAt), InvalidateAll per type (table.invAll); a load's commit
// keeps a record invalidated if it was invalidated after the load began
// (see commit.stamp). Notes no load under way can need are pruned.

// beginLoad numbers a load request (see above) and counts it under way;
// endLoad, deferred, ends it.
func (s *Store) beginLoad(req *Request) *Request {
	req.since = s.saveSeq.Load() + 1
	s.loadMu.Lock()
	req.inv = s.invSeq.Load()
	if s.loading == nil {
		s.loading = map[loadMark]int{}
	}
	s.loading[loadMark{req.inv, req.since}]++
	s.loadMu.Unlock()
	return req
}

// A loadMark is what a load under way began at: Store.invSeq and
// Request.since.
type loadMark struct{ inv, since uint64 }

func (s *Store) endLoad(req *Request) {
	m := loadMark{req.inv, req.since}
	s.loadMu.Lock()
	if s.loading[m]--; s.loading[m] <= 0 {
		delete(s.loading, m)
	}
	s.loadMu.Unlock()
}

// oldestLoad returns the inv of the oldest load under way, or invSeq when
// none is.
func (s *Store) oldestLoad() uint64 {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	low := s.invSeq.Load()
	for m := range s.loading {
		low = min(low, m.inv)
	}
	return low
}

// loadsBefore reports whether a load begun before the save numbered seq
// is still under way: its answer may predate the save.
func (s *Store) loadsBefore(seq uint64) bool {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	for m := range s.loading {
		if m.since <= seq {
			return true
		}
	}
	return false
}

// invalidatedAt notes that Invalidate call seq named the record id, and
// prunes the notes once they are many.
func (t *table) invalidatedAt(s *Store, id string, seq uint64) {
	if _, loaded := t.invAt.Swap(id, seq); !loaded && t.invNotes.Add(1) > max(1024, t.invPruneAt.Load()) {
		low := s.oldestLoad()
		t.invAt.Range(func(k, v any) bool {
			if v.(uint64) <= low && t.invAt.CompareAndDelete(k, v) {
				t.invNotes.Add(-1)
			}
			return true
		})
		// Notes a long load still needs stay: prune again only once
		// they have doubled, so that pruning stays linear.
		t.invPruneAt.Store(2 * t.invNotes.Load())
	}
	t.hasInv.Store(true)
}

// invalidatedSince reports whether the record id was invalidated after a
// load numbered inv began.
func (t *table) invalidatedSince(id string, inv uint64) bool {
	if !t.hasInv.Load() {
		return false
	}
	if t.invAll.Load() > inv {
		return true
	}
	v, ok := t.invAt.Load(id)
	return ok && v.(uint64) > inv
}
