package recstore

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/recstore/recstore/inflect"
)

// Default limits, used where an Options field is zero or negative.
const (
	DefaultMaxDocumentBytes = 16 << 20
	DefaultMaxDepth         = 64
	DefaultMaxResources     = 100_000
	DefaultMaxIDBytes       = 1024
	DefaultMaxLinkages      = 1_000_000
	// DefaultMaxConcurrentCalls is the cap on adapter calls under way at
	// once (see Options.MaxConcurrentCalls).
	DefaultMaxConcurrentCalls = 32
)

// Options configures a Store. The zero value, and a nil *Options, give the
// defaults. New copies the Options; later changes to them have no effect.
type Options struct {
	// MaxDocumentBytes caps the size of one pushed document; <= 0 means
	// DefaultMaxDocumentBytes (16 MiB).
	MaxDocumentBytes int
	// MaxDepth caps how deeply a document's objects and arrays may nest,
	// counting the document itself as 1; <= 0 means DefaultMaxDepth (64).
	// Values above MaxDepthCeiling (10,000) mean MaxDepthCeiling.
	MaxDepth int
	// MaxResources caps the resources (data plus included) in one document;
	// <= 0 means DefaultMaxResources (100,000).
	MaxResources int
	// MaxIDBytes caps the length of one id, as stored: after escapes are
	// resolved and invalid UTF-8 replaced; <= 0 means DefaultMaxIDBytes
	// (1 KiB).
	MaxIDBytes int
	// MaxLinkages caps the resource identifiers in all relationships'
	// data of one document; <= 0 means DefaultMaxLinkages (1,000,000),
	// which admits a document of MaxResources records with ten links each.
	MaxLinkages int

	// Serializer is the application serializer: used by PushPayload and
	// Normalize for models registered without one of their own, and for
	// payloads of no one type. nil means a JSONAPISerializer.
	Serializer Serializer

	// Adapter loads what Find, FindAll, Query and QueryRecord ask for,
	// for models registered without one of their own. nil means none:
	// Find and FindAll then answer from what the Store holds, and calls
	// that must ask a backend fail with ErrNoAdapter.
	Adapter Adapter

	// MaxBackgroundReloads caps the background reloads running at once;
	// a reload asked for while the cap is reached waits its turn, once
	// per record (the record is returned as cached either way). With
	// Coalesce on, background reloads join the batches instead, which go
	// out as FindMany calls. <= 0 means 8.
	MaxBackgroundReloads int

	// MaxConcurrentCalls caps the adapter calls of every kind (loads,
	// queries, saves, links) under way at once, so that a burst of misses
	// cannot put the backend under a request per caller: a call past the
	// cap waits for a slot, or until its context ends. 0 means
	// DefaultMaxConcurrentCalls (32); a negative value means no cap. An
	// Adapter must not wait on another call of the same Store, which
	// could wait for its slot for good.
	MaxConcurrentCalls int

	// Coalesce, if not nil, turns Finds of one type that miss the Store
	// at about the same time into one FindMany call. nil means off, as
	// in Ember Data's HTTP adapters.
	Coalesce *CoalesceOptions

	// BackgroundTimeout bounds each background reload, so that a backend
	// that hangs cannot hold MaxBackgroundReloads for good; <= 0 means one
	// minute.
	BackgroundTimeout time.Duration

	// OnBackgroundError, if not nil, is called with the error of each
	// failed background reload, on the reload's goroutine. nil means the
	// error is logged to Logger at level Warn. Wait and Close return only
	// after these calls have, so it must not call them itself: to close
	// the Store on an error, call Close on another goroutine. A reload
	// that failed because user code panicked (the Adapter, the
	// Serializer, a Transform, ...) is reported with an error wrapping a
	// *PanicError. A panic in OnBackgroundError itself is recovered and
	// logged to Logger at level Error, and one in the Logger's handler is
	// dropped: neither ends the process.
	OnBackgroundError func(err error)

	// Logger receives what the Store reports but does not fail on, such as
	// payload members a serializer skipped, when OnReport is nil. nil
	// means slog.Default().
	Logger *slog.Logger

	// Inflector holds the English rules the Store's serializers use to
	// turn payload keys into model types ("cookies" → "cookie"), after
	// its own models' names and plurals (see
	// [Store.ModelNameFromPayloadKey]), and to pluralize the types a
	// JSONAPISerializer writes. Add an application's irregular and
	// uncountable words to an inflect.English() and pass it here: the
	// Store gives the same words to HTTPAdapter and RESTAdapter for the
	// paths of the requests it makes, so payloads and paths agree (see
	// HTTPAdapter.Inflector). nil means inflect.English(). New takes a
	// copy (Rules.Clone): words added later reach neither the Store nor
	// its adapters' paths, and one Store's words never reach another.
	Inflector *inflect.Rules

	// OnReport, if not nil, receives what the Store reports but does not
	// fail on, as values (see [Report]): skipped members and types, lossy
	// coercions, failed background reloads. nil means each Report is
	// logged to Logger at its kind's level, with its fields as attributes.
	// Reports about a payload are merged and handed over once it is
	// pushed (or normalized, for Normalize), before that call returns and
	// never under the Store's lock; a push that fails reports nothing but
	// its error. OnReport runs on a goroutine of the Store's while the
	// reporting call waits, and must be safe for concurrent use; as
	// OnBackgroundError, it must not call Wait or Close. A panic in it is
	// recovered: the push or reload goes on, the Report is logged instead,
	// and the first such panic is logged at level Error. A background
	// reload's failure goes to OnBackgroundError when that is set, and to
	// OnReport when this is; the Logger logs it only when neither is. It
	// is a func, as OnBackgroundError is, not an interface: one method
	// needs none, and a collector with state passes a method value.
	OnReport func(Report)

	// DebugLogger, if not nil, receives the cache's events at level
	// Debug, as they happen: each adapter call (op, type, duration,
	// error) and each eviction (type, id, cause). It is apart from
	// Logger, so that turning these on does not turn on the reports'
	// Debug level, nor the other way round. A panic in its handler is
	// dropped.
	DebugLogger *slog.Logger

	// MaxRecords and MaxBytes bound the records the Store holds, over every
	// type, and their estimated size in bytes; <= 0 means no bound. Past
	// a bound, the Store evicts records as Unload would (they leave their
	// inverses, subscribers see them removed; the records whose
	// relationships lost them are marked invalidated, as they are no
	// longer what the backend sent), choosing them by S3-FIFO:
	// records read since they came are kept over those that were not
	// (see Options.MaxBytes for what else to know).
	MaxRecords int
	// MaxBytes bounds the estimated size of the records the Store holds,
	// as MaxRecords bounds their number; <= 0 means no bound.
	// Records created or changed here and not saved, being saved,
	// deleted, or held by a Retain are never evicted, so a Store full of
	// those can exceed its bounds. The size of a record is an estimate:
	// its Go value, what its strings, slices, maps and pointers hold,
	// its relationships, and the Store's own bookkeeping per record.
	// Eviction runs as each change is published; that change's own
	// records are spared until the next, so that a Find can read the
	// record it loaded. Models can have bounds of their own
	// (ModelOptions.MaxRecords, MaxBytes).
	MaxBytes int64

	// Expiry, if not nil, is the time-based cache policy Find follows for
	// every model that has none of its own (ModelOptions.Expiry): fresh
	// records are served with no call, stale ones served and reloaded in
	// the background, expired ones reloaded first. nil means the
	// Adapter's ReloadPolicy, which is Ember Data's unless the Adapter
	// has its own (see [EmberReloadPolicy]).
	Expiry *Expiry

	// Clock, if not nil, is the Store's clock: load times and expiry are
	// read from it, so that tests can move time. nil means time.Now.
	Clock func() time.Time
}

// A Store is an identity map of typed records keyed by type and id: the
// client-side cache of what a program has loaded from its backend.
//
// Models are registered per Store with [Register]. Records enter by
// [Store.Push] and are read with [Model.Peek], [Model.All] and
// [Store.Related]. A Store is safe for concurrent use by multiple goroutines:
// changes (pushes, unloads, registrations) are serialized and published all
// at once, and reads take no lock. A Store must not be copied after first
// use.
type Store struct {
	opts Options

	// mu serializes every change: pushes, unloads and registrations. It
	// guards entry.draft, relField.inverse and table.dead. Readers never take
	// it except as a fallback (see consistent).
	mu sync.Mutex

	// life is cancelled by Close; every adapter call the Store makes runs
	// under a context that ends with it.
	life  context.Context
	close context.CancelFunc

	// flightMu guards flights, the adapter calls in progress by record.
	flightMu sync.Mutex
	flights  map[Key][]*flight
	batches  map[*table]*batch // coalesced Finds not sent yet
	// running counts the goroutines making adapter calls (and foreground
	// FindAll and Query calls), bgRunning the background reloads among
	// them; both guarded by flightMu. idle is signalled when either drops.
	running   int
	bgRunning int
	idle      *sync.Cond
	bgSlots   chan struct{}  // bounds background reloads
	bgQueue   []queuedReload // reloads waiting for a slot, oldest first
	bgQueued  map[Key]bool   // the keys in bgQueue

	// invMu guards relField.inverse for readers (Related, Snapshot), so
	// that they need not wait for a push; registration holds it as well
	// as mu when it sets an inverse.
	invMu sync.RWMutex

	// testHook, set only by tests, runs at named points of a commit so
	// that tests can make it panic there.
	testHook func(point string)

	// seq is odd while a change is being published. Reads that touch more
	// than one record check it before and after, so that they never see
	// half of a push.
	seq atomic.Uint64

	// tables maps type names to tables, and goTypes Go types to tables.
	// Both are replaced, never changed, by Register under mu.
	tables  atomic.Pointer[map[string]*table]
	goTypes atomic.Pointer[map[reflect.Type]*table]

	// rules are the Store's own inflection rules, from Options.Inflector;
	// nil means the package's shared English rules. payloadKeys maps the
	// payload keys naming registered models to their tables (see
	// payloadKeyTable); Register replaces it, never changes it, under mu.
	rules       *inflect.Rules
	payloadKeys atomic.Pointer[map[string]*table]
	// givenRules is Options.Inflector as given to New. It is only
	// compared, never read: an HTTPAdapter.Inflector that is this very
	// pointer stands for the Store's rules (see HTTPAdapter.Inflector).
	givenRules *inflect.Rules

	// hookPanics counts panics of Options.OnReport; only the first is
	// logged.
	hookPanics atomic.Int64

	// lidSeq numbers the local identifiers of records created without
	// an id.
	lidSeq atomic.Uint64

	// relFlights maps relationships to the link loads under way for them
	// (see LoadRelated); guarded by flightMu.
	relFlights map[relKey]*flight

	// saves orders the saves of each record, by its key or local
	// identifier (see saveTurn); guarded by flightMu.
	saves map[Key]*saveQueue

	// subs lists the subscriptions (see Subscribe), replaced, never
	// changed, under subMu; commits read it without a lock. subWG counts
	// the goroutines delivering to them, which Close waits for.
	subMu sync.Mutex
	subs  atomic.Pointer[[]*Subscription]
	subWG sync.WaitGroup
	// views counts the open Views (see Model.View), so that publish
	// skips them when there are none.
	views atomic.Int32

	// stats counts what Stats reports; callSlots bounds the adapter calls
	// under way (Options.MaxConcurrentCalls), nil for no bound.
	stats     storeStats
	callSlots chan struct{}
	// bounds is set once the Store or a model has a bound on records or
	// bytes: records are then kept in eviction queues (see cache.go).
	// cacheSeq numbers queue items, guarded by mu.
	bounds   atomic.Bool
	cacheSeq uint64
	// pins counts the Retains holding each key, guarded by mu.
	pins map[Key]int
	// saveSeq numbers the saves confirmed (see table.saved).
	saveSeq atomic.Uint64
	// invSeq numbers Invalidate and InvalidateAll calls; loading counts
	// the load requests under way by the invSeq they began at (see
	// beginLoad).
	invSeq  atomic.Uint64
	loadMu  sync.Mutex
	loading map[loadMark]int
}

// New returns an empty Store. A nil opts means the defaults.
func New(opts *Options) *Store {
	s := &Store{}
	if opts != nil {
		s.opts = *opts
		if opts.Expiry != nil {
			exp := *opts.Expiry // New copies the Options, and what they point to
			s.opts.Expiry = &exp
		}
	}
	if s.opts.MaxDocumentBytes <= 0 {
		s.opts.MaxDocumentBytes = DefaultMaxDocumentBytes
	}
	if s.opts.MaxDepth <= 0 {
		s.opts.MaxDepth = DefaultMaxDepth
	}
	s.opts.MaxDepth = min(s.opts.MaxDepth, MaxDepthCeiling)
	if s.opts.MaxLinkages <= 0 {
		s.opts.MaxLinkages = DefaultMaxLinkages
	}
	if s.opts.MaxResources <= 0 {
		s.opts.MaxResources = DefaultMaxResources
	}
	if s.opts.MaxIDBytes <= 0 {
		s.opts.MaxIDBytes = DefaultMaxIDBytes
	}
	if s.opts.MaxBackgroundReloads <= 0 {
		s.opts.MaxBackgroundReloads = 8
	}
	switch {
	case s.opts.MaxConcurrentCalls == 0:
		s.opts.MaxConcurrentCalls = DefaultMaxConcurrentCalls
		fallthrough
	case s.opts.MaxConcurrentCalls > 0:
		s.callSlots = make(chan struct{}, s.opts.MaxConcurrentCalls)
	}
	s.life, s.close = context.WithCancel(context.Background())
	s.bgSlots = make(chan struct{}, s.opts.MaxBackgroundReloads)
	s.idle = sync.NewCond(&s.flightMu)
	if s.opts.BackgroundTimeout <= 0 {
		s.opts.BackgroundTimeout = time.Minute
	}
	if s.opts.MaxRecords > 0 || s.opts.MaxBytes > 0 {
		s.bounds.Store(true)
	}
	s.tables.Store(&map[string]*table{})
	s.goTypes.Store(&map[reflect.Type]*table{})
	s.rules = s.opts.Inflector.Clone()
	s.givenRules = s.opts.Inflector
	s.opts.Inflector = nil // s.rules is the Store's; nothing else may change it
	return s
}

// A table holds the records of one type.
type table struct {
	*schema
	s *Store

	// byID maps ids to entries. An entry can be present without a loaded
	// record: see version.
	byID *idMap

	// order lists loaded entries in the order they were first loaded; it
	// may hold entries unloaded since, which readers skip. Writers append
	// past the length readers can see and then publish a new header.
	order atomic.Pointer[[]*entry]
	dead  int // unloaded entries still in order; guarded by Store.mu
	live  atomic.Int64

	// Type-specific helpers made by Register[T], so the type-erased store
	// can allocate and copy T without reflection.
	newVersion func() *version               // a version with a fresh zero T
	newValue   func() unsafe.Pointer         // a fresh zero T
	copyValue  func(dst, src unsafe.Pointer) // *dst = *src as T
	fills      bool                          // has *S, []*S or interface relation fields
	// stale, if set (Model.GuardOrder), reports whether a staged value is
	// older than the held one; both point to T's. Read by pushes under
	// Store.mu, set under it.
	stale func(incoming, held unsafe.Pointer, sent *bitset, inMeta, heldMeta map[string]any) bool
	zero  unsafe.Pointer // a zero T, never written

	// serializer and adapter are the model's own, from ModelOptions; nil
	// means the Store's.
	serializer Serializer
	adapter    Adapter
	// serKeys caches payload keys per serializer: see cachedKeys.
	serKeys sync.Map

	// more maps entries to the links and meta their records carried
	// (*entry to *more), changed only as a commit publishes; hasMore is
	// set once any record of the table has had some. Most records have
	// none, so they live beside the versions rather than in them.
	more    sync.Map
	hasMore atomic.Bool

	// lids maps the local identifiers of records that were created
	// without an id and have one now to their entries (see Resolve);
	// written under Store.mu, read without a lock. hasLIDs is set once it
	// holds any, so that other lookups skip it.
	lids    sync.Map
	hasLIDs atomic.Bool
	// lidsOf maps the entries of records created without an id to their
	// local identifiers (the entry's id until the backend gives one; see
	// lidOf). Kept beside the entries, so that entries of records loaded
	// from the backend cost nothing for it.
	lidsOf sync.Map

	// views lists the table's open Views, replaced, never changed, under
	// Store.mu.
	views atomic.Pointer[[]viewer]

	// stats counts what Stats reports of the type; bytes is the estimated
	// size of its records (see cache.go).
	stats tableStats
	bytes atomic.Int64
	// cache is the table's eviction state, and sizers estimate the
	// memory its attributes point to (see cache.go).
	cache  tcache
	sizers []func(unsafe.Pointer) int64

	// saved maps the entries of records whose save was confirmed to its
	// Store.saveSeq (*entry to uint64), so that the answer of a load made
	// before it, which may hold the state before the save, does not undo
	// it; hasSaved is set once it holds any. An entry leaves it when a
	// load made after the save lands and none made before is under way,
	// or when it is unloaded.
	saved    sync.Map
	hasSaved atomic.Bool
	// invAt notes, per record id (string to uint64), the last Invalidate
	// call that named it; invAll, the last InvalidateAll of the type;
	// hasInv is set once either is; invNotes counts invAt's entries
	// (see beginLoad).
	invAt    sync.Map
	invAll   atomic.Uint64
	hasInv   atomic.Bool
	invNotes atomic.Int64
	// invPruneAt is the count of invAt notes past which they are pruned
	// again (at least 1,024).
	invPruneAt atomic.Int64

	// expiry is the model's own Expiry (ModelOptions.Expiry); nil means
	// the Store's.
	expiry *Expiry
	// deadlines maps entries to the expiry their answers' headers gave
	// them (*entry to deadlines), for types whose Expiry has FromHeaders;
	// hasDeadlines is set once it holds any.
	deadlines    sync.Map
	hasDeadlines atomic.Bool
}

// An entry is the identity of one (type, id) in the store.
type entry struct {
	id  string
	cur atomic.Pointer[version]
	// draft is the entry's pending state during a change; guarded by
	// Store.mu.
	draft *draft
	// at is when the backend's data for the record last reached the
	// Store, as the Store's clock's UnixNano; 0 if never (see Freshness).
	// Written as a commit publishes, read without a lock.
	at atomic.Int64
	// meta holds the record's cache bookkeeping: its eviction queue and
	// access count, pin and invalidation marks (see cache.go). Readers
	// only raise the count.
	meta atomic.Uint64
}

// loaded reports whether e's published version holds a record, rather
// than only relationship state that inverses gave it.
func (e *entry) loaded() bool {
	v := e.cur.Load()
	return v != nil && v.val != nil
}

// A version is one immutable state of a record. Once published through
// entry.cur it is never written again: a change builds a new version.
type version struct {
	// val points to the record's attributes as a T; nil when the record is
	// not loaded and the entry exists only to hold relationship state that
	// an inverse gave it (as Ember's graph keeps it for unloaded records).
	val unsafe.Pointer
	// rels holds the relationships some push or inverse has set, each
	// tagged with its index in the model + 1, in index order. A record
	// holds only those, so that a record known by reference, or a push
	// that sets one relationship of a model with 64, costs a slot each,
	// not a slot per relationship of the model. When all are set, rels[i]
	// is relationship i, and finding one costs no search.
	//
	// The slice is kept as a pointer and two 32-bit counts (see relsOf)
	// so that a version with st stays 32 bytes: a size class of 48 would
	// cost every push of an existing record 16 bytes more.
	relp       *relState
	reln, relc int32
	// st is the record's local life (local changes, a save in flight,
	// deletion, errors); nil for a record as the backend sent it.
	st *recState
}

// relsOf returns v's relationship states as a slice.
func (v *version) relsOf() []relState {
	if v.relp == nil {
		return nil
	}
	return unsafe.Slice(v.relp, v.relc)[:v.reln]
}

// setRels makes rels v's relationship states. A version never holds more
// than a model's relationships, far below 1<<31.
func (v *version) setRels(rels []relState) {
	if cap(rels) == 0 {
		v.relp, v.reln, v.relc = nil, 0, 0
		return
	}
	v.relp = unsafe.SliceData(rels[:cap(rels)])
	v.reln, v.relc = int32(len(rels)), int32(cap(rels))
}

// holdsNothing reports whether v knows nothing of any relationship.
func (v *version) holdsNothing() bool {
	for _, rs := range v.relsOf() {
		if rs.known || len(rs.many) > 0 || !rs.one.IsZero() {
			return false
		}
	}
	return true
}

// listed reports whether v is a record that All, Len and Keys list: a
// loaded one whose deletion has not been saved.
func (v *version) listed() bool {
	return v != nil && v.val != nil && (v.st == nil || !v.st.gone)
}

// rel returns the state of relationship ri, for reading only: it points
// into v, or to noRel.
func (v *version) rel(ri int) *relState {
	if v != nil && ri < int(v.reln) {
		if rs := &unsafe.Slice(v.relp, v.reln)[ri]; rs.tag == int32(ri)+1 {
			return rs // the common case: every relationship set, no search
		}
	}
	return v.relSearch(ri)
}

// noRel is the state of a relationship no push has set. Nothing writes it.
var noRel relState

// relSearch is rel for a record that has not set every relationship.
func (v *version) relSearch(ri int) *relState {
	if v == nil {
		return &noRel
	}
	rels := v.relsOf()
	if i, ok := relIndex(rels, ri); ok {
		return &rels[i]
	}
	return &noRel
}

// relIndex finds relationship ri in rels, or where it would go. Tags are
// distinct, sorted and at least index + 1, so it is at index ri or
// before it.
func relIndex(rels []relState, ri int) (int, bool) {
	tag := int32(ri) + 1
	if ri < len(rels) && rels[ri].tag == tag {
		return ri, true
	}
	lo, hi := 0, min(ri, len(rels))
	for lo < hi {
		if m := int(uint(lo+hi) >> 1); rels[m].tag < tag {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(rels) && rels[lo].tag == tag
}

// relState is the state of one relationship of one record.
type relState struct {
	many  []Key // to-many members, in order
	one   Key   // to-one target; zero for null
	tag   int32 // its index in the model's relationships + 1
	known bool  // some push or inverse update has set it
	// implied: an inverse update made it known, and no push of the
	// record itself has set it since. Once the records that made it
	// known leave, it goes back to not known (see dropImplied): the
	// backend never sent it. It sits in padding: relState stays 64 bytes.
	implied bool
}

// versionOf puts a version and its value in one allocation.
type versionOf[T any] struct {
	v   version
	val T
}

func (s *Store) lookupType(name string) *table { return (*s.tables.Load())[name] }

// entry returns the entry for id, or for the local identifier of a record
// that has an id now, or nil.
func (t *table) entry(id string) *entry {
	if e := t.byID.get(id); e != nil {
		return e
	}
	return t.aliased(id)
}

// loaded returns the current version of id if the record is loaded.
func (t *table) loaded(id string) *version {
	e := t.byID.get(id)
	if e == nil {
		if e = t.aliased(id); e == nil {
			return nil
		}
	}
	v := e.cur.Load()
	if v == nil || v.val == nil {
		return nil
	}
	return v
}

// peek is loaded for a read by the application, which counts for eviction
// (see entry.touch).
func (t *table) peek(id string) *version {
	_, v := t.peekEntry(id)
	return v
}

// peekEntry is peek, also returning the entry of a loaded record.
func (t *table) peekEntry(id string) (*entry, *version) {
	e := t.byID.get(id)
	if e == nil {
		if e = t.aliased(id); e == nil {
			return nil, nil
		}
	}
	v := e.cur.Load()
	if v == nil || v.val == nil {
		return nil, nil
	}
	e.touch()
	return e, v
}

// read materialises v into dst, a *T of this table: a copy of the stored
// value that shares no mutable memory with it, with relation fields filled
// from the relationship state. Pointer relations (*S, []*S) are filled
// when fill is true, one level deep: the related records' own pointer
// relations are left nil.
func (t *table) read(v *version, dst unsafe.Pointer, fill bool) {
	t.copyValue(dst, v.val)
	for _, a := range t.clones {
		a.clone(unsafe.Add(dst, a.off))
	}
	t.fillKeys(v, dst)
	if !fill || !t.fills {
		return
	}
	for i := range t.rels {
		r := &t.rels[i]
		switch p := unsafe.Add(dst, r.off); {
		case r.keyed:
		case r.poly != nil:
			t.s.fillPoly(r, v.rel(i), p)
		case r.many:
			*(*[]unsafe.Pointer)(p) = t.s.fillMany(r, v.rel(i).many)
		default:
			*(*unsafe.Pointer)(p) = t.s.fillOne(r, v.rel(i).one)
		}
	}
}

// fillKeys sets the Key and []Key relation fields of the T at dst. It makes
// only direct stores through dst, so that a T on the caller's stack stays
// there.
func (t *table) fillKeys(v *version, dst unsafe.Pointer) {
	for i := range t.rels {
		r := &t.rels[i]
		if !r.keyed {
			continue
		}
		p := unsafe.Add(dst, r.off)
		if r.many {
			*(*[]Key)(p) = slices.Clone(v.rel(i).many)
		} else {
			*(*Key)(p) = v.rel(i).one
		}
	}
}

func (s *Store) fillOne(r *relField, k Key) unsafe.Pointer {
	tt := r.target.Load()
	if tt == nil || k.Type != tt.name {
		return nil
	}
	v := tt.loaded(k.ID)
	if v == nil {
		return nil
	}
	p := tt.newValue()
	tt.read(v, p, false)
	return p
}

func (s *Store) fillMany(r *relField, keys []Key) []unsafe.Pointer {
	if len(keys) == 0 {
		return nil
	}
	tt := r.target.Load()
	if tt == nil {
		return nil
	}
	out := make([]unsafe.Pointer, 0, len(keys))
	for _, k := range keys {
		if k.Type != tt.name {
			continue
		}
		if v := tt.loaded(k.ID); v != nil {
			p := tt.newValue()
			tt.read(v, p, false)
			out = append(out, p)
		}
	}
	return out
}

// consistent runs read so that it sees the Store between two changes,
// never during one. read may run more than once and must have no effects
// beyond its result. After a few tries it takes the write lock, so a
// stream of pushes cannot starve it.
func (s *Store) consistent(read func()) {
	for try := 0; try < 4; try++ {
		n := s.seq.Load()
		if n&1 == 0 {
			read()
			if s.seq.Load() == n {
				return
			}
		}
		runtime.Gosched()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	read()
}

// Has reports whether the Store holds the record k.
func (s *Store) Has(k Key) bool {
	t := s.lookupType(k.Type)
	return t != nil && t.loaded(k.ID) != nil
}

// Peek returns a copy of the record k as its model's Go type (a T, not a
// *T), or false if the Store does not hold it. It does no I/O. Use
// [Model.Peek] for typed access without the interface conversion.
func (s *Store) Peek(k Key) (any, bool) {
	t := s.lookupType(k.Type)
	if t == nil {
		return nil, false
	}
	p := t.newValue()
	ok := false
	s.consistent(func() {
		v := t.peek(k.ID)
		if ok = v != nil; ok {
			t.read(v, p, true)
		}
	})
	if !ok {
		return nil, false
	}
	return reflect.NewAt(t.goType, p).Elem().Interface(), true
}

// Types returns the registered type names, sorted.
func (s *Store) Types() []string {
	m := *s.tables.Load()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Len returns the number of loaded records of type typ.
func (s *Store) Len(typ string) int {
	t := s.lookupType(typ)
	if t == nil {
		return 0
	}
	return int(t.live.Load())
}

// Keys returns the keys of the loaded records of type typ, in the order
// they were first loaded.
func (s *Store) Keys(typ string) []Key {
	t := s.lookupType(typ)
	if t == nil {
		return nil
	}
	var keys []Key
	for _, e := range *t.order.Load() {
		if e.cur.Load().listed() {
			keys = append(keys, Key{t.name, e.id})
		}
	}
	return keys
}

// Related describes one relationship of a record as the Store holds it.
type Related struct {
	// Name is the relationship's member name, as in the model's
	// `jsonapi:"relation,NAME"` tag.
	Name string
	// Many reports a to-many relationship.
	Many bool
	// Known reports whether any push, or an inverse kept in step, has set
	// the relationship. An unknown relationship has no Keys, but that does
	// not mean it is empty.
	Known bool
	// Keys are the related records in order: at most one for a to-one,
	// none for null or [].
	Keys []Key
	// NotLoaded are the members of Keys that the Store does not hold:
	// a relationship can name records that were never pushed.
	NotLoaded []Key
	// Inverse names the related model's relationship that mirrors this
	// one, or is "" when there is none.
	Inverse string
	// InverseMany reports that Inverse is a to-many relationship.
	InverseMany bool
	// Links is the relationship object's links (such as "related" and
	// "self"), as the last push that carried links had them, or nil. A
	// push that omits them keeps the previous ones. The map is the
	// caller's own. [Store.LoadRelated] follows the related link.
	Links map[string]any
	// Meta is the relationship object's meta, kept as Links is; the map
	// is the caller's own.
	Meta map[string]any
}

// Empty reports whether the relationship is known to be null or [].
func (r Related) Empty() bool { return r.Known && len(r.Keys) == 0 }

// Related returns the relationship name of the record k, or false if the
// Store does not hold k or its model has no such relationship.
func (s *Store) Related(k Key, name string) (Related, bool) {
	t := s.lookupType(k.Type)
	if t == nil {
		return Related{}, false
	}
	ri, ok := t.relIdx[name]
	if !ok {
		return Related{}, false
	}
	var out Related
	var lm linksMeta
	found := false
	s.consistent(func() {
		v := t.loaded(k.ID)
		if found = v != nil; !found {
			return
		}
		st := *v.rel(ri)
		out = Related{Name: name, Many: t.rels[ri].many, Known: st.known}
		if out.Many {
			out.Keys = slices.Clone(st.many)
		} else if !st.one.IsZero() {
			out.Keys = []Key{st.one}
		}
		out.NotLoaded = nil
		for _, rk := range out.Keys {
			if !s.Has(rk) {
				out.NotLoaded = append(out.NotLoaded, rk)
			}
		}
		lm = t.moreOf(t.entry(k.ID)).rel(ri)
	})
	out.Links, out.Meta = decodeObject(lm.links), decodeObject(lm.meta)
	if found && t.rels[ri].inverse != "" {
		s.invMu.RLock()
		out.Inverse = t.rels[ri].inverse
		out.InverseMany = s.inverseMany(t, &t.rels[ri], out.Keys)
		s.invMu.RUnlock()
	}
	return out, found
}

// Unload removes the record k from the Store, local changes and all;
// a record the Store only knows by reference is left alone. As in
// Ember Data, relationships that declare an inverse forget
// it: a track unloaded leaves its album's tracks, an album unloaded leaves
// its tracks' album null. Other records that name k without an inverse keep
// the key, and reading them reports it as not loaded. Pushing k again
// starts a new record with only what that push carries. It fails with
// an error wrapping ErrNotLoaded for a record the Store does not hold,
// and ErrSaving, unloading nothing, while a save of it is in flight.
func (s *Store) Unload(k Key) error { return s.unloadOne(k, false) }

// UnloadUnchanged unloads k as Unload does, unless it has local changes
// (created, edited or deleted, and not saved): then it fails with an error
// wrapping ErrChanged, and with ErrSaving during a save, unloading
// nothing. The check and the unload are one step, so an edit made
// meanwhile is never lost: it is what code that drops records changed
// elsewhere (another replica's message) calls.
func (s *Store) UnloadUnchanged(k Key) error { return s.unloadOne(k, true) }

// unloadOne unloads k, refusing a record being saved and, if unchanged
// only, one with local changes.
func (s *Store) unloadOne(k Key, unchangedOnly bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A record known only by reference is not loaded: what others say of
	// it came from the backend and stays, as unloading a record Ember
	// Data has not loaded changes nothing.
	t, e, err := s.recordFor("unload", k)
	if err != nil {
		return err
	}
	v := e.cur.Load()
	if v.st != nil && v.st.saving {
		return errUnloadSaving(Key{t.name, e.id})
	}
	if unchangedOnly && stateOf(v).IsDirty() {
		return fmt.Errorf("unload %v: %w", Key{t.name, e.id}, ErrChanged)
	}
	c := newCommit(s, CauseUnload)
	defer c.abort()
	if err := c.unload(t, e); err != nil {
		return err
	}
	c.publish()
	return nil
}

// UnloadAll removes every record of the given types, or of every type when
// none is given, as [Store.Unload] does for each. It returns an error
// wrapping ErrUnknownType for a type that has no model, or ErrSaving for
// a record being saved, and then unloads nothing.
func (s *Store) UnloadAll(types ...string) error {
	tables, err := s.tablesNamed(types)
	if err != nil {
		return err
	}
	// In a stable order (types by name, records as loaded), which is
	// the order subscribers get the removals in.
	slices.SortFunc(tables, func(a, b *table) int { return strings.Compare(a.name, b.name) })
	s.mu.Lock()
	defer s.mu.Unlock()
	c := newCommit(s, CauseUnload)
	defer c.abort()
	for _, t := range tables {
		for _, e := range *t.order.Load() {
			v := e.cur.Load()
			if v == nil || v.val == nil || e.draft != nil && e.draft.drop {
				continue
			}
			if v.st != nil && v.st.saving {
				c.abort()
				return errUnloadSaving(Key{t.name, e.id})
			}
			if err := c.unload(t, e); err != nil {
				c.abort()
				return err
			}
		}
		// Records known only by reference are not in order, and stay.
	}
	c.publish()
	return nil
}

// tablesNamed returns the tables of the given types, or every table when
// none is given, or an error wrapping ErrUnknownType.
func (s *Store) tablesNamed(types []string) ([]*table, error) {
	var tables []*table
	if len(types) == 0 {
		for _, t := range *s.tables.Load() {
			tables = append(tables, t)
		}
	}
	for _, name := range types {
		t := s.lookupType(name)
		if t == nil {
			return nil, fmt.Errorf("%w %q", ErrUnknownType, name)
		}
		tables = append(tables, t)
	}
	return tables, nil
}

func (s *Store) logger() *slog.Logger {
	if s.opts.Logger != nil {
		return s.opts.Logger
	}
	return slog.Default()
}
