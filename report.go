package recstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// A Report is something the Store noticed and did not fail on: a payload
// member the model does not define, a resource of a type with no model, a
// value a coercion could not carry over whole, a background reload that
// failed. Reports go to Options.OnReport, or to Options.Logger when it is
// nil, so that an application sees them as values rather than as log text.
//
// Reports about one payload are merged: a payload of 10,000 records that
// each carry the same unknown member gives one Report with Count 10,000
// and the Pointer of the first. At most 16 distinct reports are kept per
// payload; past that, further ones of each kind merge into one Report
// with empty Type and Member.
type Report struct {
	// Kind says what the report is about, and so which of the fields
	// below it fills: a skipped member, an unknown type, a lossy coercion,
	// a background error, ... (see the ReportKind constants).
	Kind ReportKind
	// Type is the model type the report is about: the record's type for a
	// skipped member or a lossy coercion, the type the payload named for
	// an unknown type, the type a background reload was for. It is empty
	// when not known, and for the merged remainder described above.
	Type string
	// Member is the payload's member name at fault: the skipped key
	// ("links/KEY" for a key of a REST or JSON hash's links object), the
	// key of the coerced attribute, or the last name in the pointer of a
	// custom serializer's skip.
	Member string
	// Pointer is a JSON pointer (RFC 6901) into the payload at the first
	// occurrence, such as "/albums/3/songCount"; empty when the report is
	// not about a payload.
	Pointer string
	// Count is how many times it happened in one payload; 1 for a
	// background error.
	Count int
	// Message says what happened in a few words, the same for every
	// report of its kind and reason, so that logs group well.
	Message string
	// Err is the error behind the report, if any: the *AttributeError a
	// Strict serializer would have failed with (for the first occurrence),
	// the skip's error, the background reload's error, the *PanicError.
	Err error
}

// LogValue renders r as a group of attributes, so that a Report can be
// logged as one attribute: logger.Info("...", "report", r).
func (r Report) LogValue() slog.Value { return slog.GroupValue(r.attrs()...) }

// attrs are r's fields as slog attributes; empty ones are left out.
func (r Report) attrs() []slog.Attr {
	a := make([]slog.Attr, 0, 6)
	a = append(a, slog.String("kind", r.Kind.String()))
	if r.Type != "" {
		a = append(a, slog.String("type", r.Type))
	}
	if r.Member != "" {
		a = append(a, slog.String("member", r.Member))
	}
	if r.Pointer != "" {
		a = append(a, slog.String("pointer", r.Pointer))
	}
	a = append(a, slog.Int("count", r.Count))
	if r.Err != nil {
		a = append(a, slog.Any("err", r.Err))
	}
	return a
}

// A ReportKind says what a [Report] is about.
type ReportKind uint8

// The kinds of Report, with the level each is logged at by default.
const (
	// ReportUnknownMember reports a payload member that names no attribute
	// or relationship of the record's model, left out (Debug). Backends
	// often send members a client does not model, so these are never
	// errors, Strict or not. Push reports them too, for JSON text and
	// Documents alike.
	ReportUnknownMember ReportKind = iota + 1
	// ReportUnknownType reports a root key (REST) or included resource
	// (JSON:API) naming no registered model, left out (Warn).
	ReportUnknownType
	// ReportSkipped reports anything else a custom serializer listed in
	// Document.Skipped (Warn).
	ReportSkipped
	// ReportLossyCoercion reports a value a serializer coerced to its
	// field's kind, as Ember Data's transforms do, losing information
	// (Warn). A Strict serializer fails instead. The lossy cases are:
	//   - to a number: a string that is not a number ("twelve"), which
	//     becomes null (the field's zero value);
	//   - to a number: a value beyond float64 ("1e400", "Infinity"),
	//     which becomes null;
	//   - to a number: an object or array, which becomes null, as
	//     Ember's Number(v) does for an object (it is NaN); unlike
	//     JavaScript, which reads [] as 0 and [5] as 5, every array too;
	//   - to a string: an object or array, which becomes null (""
	//     or nil), where Ember's String(v) would give "[object Object]"
	//     or the elements joined by commas;
	//   - to a boolean: a number other than 0 and 1, which becomes false;
	//   - to a boolean: a string other than "true", "t", "1", "false",
	//     "f", "0" (in any case) and "", which becomes false;
	//   - to a boolean: an object or array, which becomes false (null for
	//     a pointer field);
	//   - to a time.Time: an object, array or boolean, which becomes null
	//     (the zero time, or nil).
	// Not lossy: numeric strings to numbers, "" to null, true and false
	// to 1 and 0, numbers and booleans to strings, 0 and 1 to booleans,
	// and a float64's usual rounding of long numbers.
	ReportLossyCoercion
	// ReportBackgroundError reports a failed background reload (Warn).
	// Err is the error Options.OnBackgroundError gets.
	ReportBackgroundError
	// ReportPanic reports a panic of a report hook, or of a subscriber
	// (see Store.Subscribe) (Error). Err is the *PanicError. A panic of Options.OnBackgroundError is delivered as
	// any report is, to Options.OnReport or else the Logger; the first
	// panic of Options.OnReport itself is logged to the Logger, never
	// handed to OnReport, and later ones are not logged.
	ReportPanic
	// ReportStale reports a pushed resource that a model's ordering guard
	// (see Model.GuardOrder) found older than the record the Store holds,
	// and left out while the rest of the push landed (Info). Pointer
	// names the first such resource, Count how many of the type there
	// were.
	ReportStale
)

var reportKindNames = [...]string{
	ReportUnknownMember:   "unknown-member",
	ReportUnknownType:     "unknown-type",
	ReportSkipped:         "skipped",
	ReportLossyCoercion:   "lossy-coercion",
	ReportBackgroundError: "background-error",
	ReportPanic:           "panic",
	ReportStale:           "stale",
}

// String returns the kind's name, such as "unknown-member".
func (k ReportKind) String() string {
	if int(k) < len(reportKindNames) && reportKindNames[k] != "" {
		return reportKindNames[k]
	}
	return "ReportKind(" + strconv.Itoa(int(k)) + ")"
}

// Level is the level a report of kind k is logged at when
// Options.OnReport is nil.
func (k ReportKind) Level() slog.Level {
	switch k {
	case ReportUnknownMember:
		return slog.LevelDebug
	case ReportPanic:
		return slog.LevelError
	case ReportStale:
		return slog.LevelInfo
	}
	return slog.LevelWarn
}

// The reasons a coercion loses information, as Report messages.
const (
	lossNaN          = "lossy coercion: non-numeric string to number"
	lossRange        = "lossy coercion: number beyond float64 to null"
	lossBoolNum      = "lossy coercion: number other than 0 or 1 to boolean"
	lossBoolStr      = "lossy coercion: string to boolean false"
	lossBoolOther    = "lossy coercion: object or array to boolean"
	lossNumberObject = "lossy coercion: object or array to null number"
	lossStringObject = "lossy coercion: object or array to null string"
	lossDate         = "lossy coercion: object, array or boolean to null date"
)

const (
	msgUnknownMember = "unknown member skipped"
	msgUnknownType   = "resource of unknown type skipped"
	msgSkipped       = "payload member skipped"
	msgBackground    = "background reload failed"
)

// maxReports bounds the distinct reports kept for one payload.
const maxReports = 16

// A reportSet gathers one payload's reports, merged by kind, type and
// member, so that what it costs grows with the distinct reasons, not
// with the payload.
type reportSet struct {
	list     []pendingReport
	distinct int
}

type pendingReport struct {
	Report
	rest bool // the merged remainder of its kind, past maxReports
}

// add counts one occurrence; first makes the Report (pointer, message,
// error) when it starts a new one, so that a repeat costs a comparison.
func (rs *reportSet) add(kind ReportKind, typ, member string, first func() Report) {
	for i := range rs.list {
		p := &rs.list[i]
		if p.Kind == kind && !p.rest && p.Type == typ && p.Member == member {
			p.Count++
			return
		}
	}
	if rs.distinct >= maxReports {
		for i := range rs.list {
			if p := &rs.list[i]; p.rest && p.Kind == kind {
				p.Count++
				return
			}
		}
		r := first()
		r.Kind, r.Type, r.Member, r.Count = kind, "", "", 1
		rs.list = append(rs.list, pendingReport{Report: r, rest: true})
		return
	}
	rs.distinct++
	r := first()
	// member may point into the payload, which the Store must not keep.
	r.Kind, r.Type, r.Member, r.Count = kind, strings.Clone(typ), strings.Clone(member), 1
	rs.list = append(rs.list, pendingReport{Report: r})
}

// addSkip counts err, one entry of a Document's Skipped.
func (rs *reportSet) addSkip(err error) {
	var de *DocumentError
	ptr := ""
	if errors.As(err, &de) {
		ptr = de.Pointer
	}
	if errors.Is(err, ErrUnknownType) {
		rs.add(ReportUnknownType, unknownTypeName(err), "", func() Report {
			return Report{Pointer: ptr, Message: msgUnknownType, Err: err}
		})
		return
	}
	member := ptr[strings.LastIndexByte(ptr, '/')+1:]
	rs.add(ReportSkipped, "", unescapePointer(member), func() Report {
		return Report{Pointer: ptr, Message: msgSkipped, Err: err}
	})
}

// unknownTypeName recovers the type name from an error made as
// fmt.Errorf("%w %q...", ErrUnknownType, name, ...), or returns "".
func unknownTypeName(err error) string {
	var de *DocumentError
	if errors.As(err, &de) && de.Err != nil {
		err = de.Err
	}
	rest, ok := strings.CutPrefix(err.Error(), ErrUnknownType.Error()+" ")
	if !ok {
		return ""
	}
	// Only the name's quoted form: a hint may follow it.
	q, qerr := strconv.QuotedPrefix(rest)
	if qerr != nil {
		return ""
	}
	name, _ := strconv.Unquote(q)
	return shortText(name, 200)
}

// reports returns the merged reports.
func (rs *reportSet) reports() []Report {
	if rs == nil || len(rs.list) == 0 {
		return nil
	}
	out := make([]Report, len(rs.list))
	for i := range rs.list {
		out[i] = rs.list[i].Report
	}
	return out
}

// wantsUnknownMembers reports whether anyone will see a report of an
// unknown member: a hook, or a Logger that logs at Debug. Finding them
// costs a pass over each record's members, which is skipped otherwise.
func (s *Store) wantsUnknownMembers() (want bool) {
	if s.opts.OnReport != nil {
		return true
	}
	defer func() {
		if recover() != nil {
			want = false // the Logger's handler panicked: nobody to tell
		}
	}()
	return s.logger().Enabled(context.Background(), slog.LevelDebug)
}

// deliver hands reps to Options.OnReport, or logs them to the Logger.
// The hook and the Logger's handler are user code: a panic in either is
// recovered, so that the push or reload that made the reports goes on as
// if they had returned. deliver runs them on a goroutine of its own (see
// recovering) and waits for it, so that runtime.Goexit in them ends only
// that goroutine.
func (s *Store) deliver(reps ...Report) {
	if len(reps) == 0 {
		return
	}
	_ = recovering("OnReport", func() error {
		for _, r := range reps {
			s.deliverOne(r)
		}
		return nil
	})
}

func (s *Store) deliverOne(r Report) {
	if s.opts.OnReport == nil {
		s.logReport(r)
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.hookPanicked(newPanicError("OnReport", v), r)
		}
	}()
	s.opts.OnReport(r)
}

// hookPanicked handles a panic of OnReport over r: r is logged as if
// there were no hook, so that it is not lost, and the panic itself is
// logged at Error the first time only, as a hook that panics tends to do
// so on every report.
func (s *Store) hookPanicked(perr *PanicError, r Report) {
	if s.hookPanics.Add(1) == 1 {
		s.logReport(Report{Kind: ReportPanic, Message: "OnReport panicked (later panics are not logged)", Count: 1, Err: perr})
	}
	s.logReport(r)
}

// logReport logs r to the Logger at its kind's level, its fields as
// attributes. A panic in the Logger's handler is dropped: nothing is left
// to report it to.
func (s *Store) logReport(r Report) {
	defer func() { _ = recover() }()
	s.logger().LogAttrs(context.Background(), r.Kind.Level(), "recstore: "+r.Message, r.attrs()...)
}

// backgroundReport is the Report of err, a background reload's failure.
func backgroundReport(err error) Report {
	r := Report{Kind: ReportBackgroundError, Count: 1, Message: msgBackground, Err: err}
	var ae *AdapterError
	if errors.As(err, &ae) {
		r.Type = ae.Type
	}
	return r
}

// reportSkip counts err, a skip of a push's normalizer, rendering its
// pointer only when it starts a new report.
func (n *normalizer) reportSkip(err error) {
	kind, typ, msg := ReportSkipped, "", msgSkipped
	if errors.Is(err, ErrUnknownType) {
		kind, typ, msg = ReportUnknownType, unknownTypeName(err), msgUnknownType
	}
	member := ""
	if k := len(n.path); kind == ReportSkipped && k > 0 && n.path[k-1].idx < 0 {
		member = n.path[k-1].name
	}
	n.reports.add(kind, typ, member, func() Report {
		de := n.fail(err).(*DocumentError)
		return Report{Pointer: de.Pointer, Message: msg, Err: de}
	})
}

// keepReports hands what n reported to its Document. A push's Document
// reads them from n itself; another Document, which its caller may keep,
// gets a copy, so that it does not keep n (and the payload) alive.
func (n *normalizer) keepReports() {
	if n.fast || len(n.reports.list) == 0 {
		return
	}
	rs := reportSet{list: slices.Clone(n.reports.list), distinct: n.reports.distinct}
	n.doc.reports = &rs
}

// docReports merges what doc's serializer reported and listed in
// doc.Skipped.
func docReports(doc *Document) []Report {
	var rs reportSet
	switch {
	case doc.norm != nil:
		rs = doc.norm.reports
	case doc.reports != nil:
		rs = *doc.reports
	}
	if len(doc.Skipped) == 0 {
		return rs.reports()
	}
	rs.list = slices.Clone(rs.list)
	for _, err := range doc.Skipped {
		rs.addSkip(err)
	}
	return rs.reports()
}

// isFalseString reports whether s, a string coerced to a boolean, means
// false without loss: "false", "f" (in any case), "0", or "".
func isFalseString(s string) bool {
	return s == "" || s == "0" || strings.EqualFold(s, "false") || strings.EqualFold(s, "f")
}

// lossy handles a coercion of attribute a that lost information (the
// reason is in n.lost): a Strict serializer fails with an
// *AttributeError pointing at the payload's member key, others report
// it. raw is the payload's value.
func (n *normalizer) lossy(strict bool, t *table, id string, a *attrField, key string, raw []byte) error {
	reason := n.lost
	n.lost = ""
	attrErr := func() *AttributeError {
		var val string
		if len(raw) > 64 {
			val = string(raw[:61]) + "..." // not a copy of megabytes first
		} else {
			val = string(raw)
		}
		return &AttributeError{Type: t.name, ID: id, Attr: a.name, Value: val, GoType: a.typ,
			Err: fmt.Errorf("%w: %s", ErrLossyCoercion, strings.TrimPrefix(reason, "lossy coercion: "))}
	}
	n.in(key)
	defer n.out()
	if strict {
		return n.fail(attrErr())
	}
	n.reports.add(ReportLossyCoercion, t.name, key, func() Report {
		return Report{Pointer: n.pointer(), Message: reason, Err: attrErr()}
	})
	return nil
}

// memberSets are a model's payload keys under one serializer, as sets.
type memberSets struct {
	attrs, rels map[string]bool
}

func (mk *memberKeys) memberSets() *memberSets {
	mk.setsOnce.Do(func() {
		mk.sets.attrs = make(map[string]bool, len(mk.attrs))
		for _, k := range mk.attrs {
			mk.sets.attrs[k] = true
		}
		mk.sets.rels = make(map[string]bool, len(mk.rels))
		for _, k := range mk.rels {
			mk.sets.rels[k] = true
		}
	})
	return &mk.sets
}

// named reports whether key is the payload key of an attribute or a
// relationship.
func (ms *memberSets) named(key string) bool { return ms.attrs[key] || ms.rels[key] }

// unknownMembers reports the members of h, a record hash of type t read
// with the primary key pk, that name nothing of t's. A hash's "type"
// (an embedded record's, or Ember's polymorphic hashes') and a REST
// polymorphic relationship's "<name>Type" are known. It runs only for
// hashes with more members than were read, so a hash of known members
// costs nothing.
func (n *normalizer) unknownMembers(t *table, h *Hash, keys *memberKeys, pk string) {
	sets := keys.memberSets()
	for k := range h.All() {
		// "links" was read as relationship links, if no attribute or
		// relationship has that key (see hashLinks).
		if k == pk || k == "type" || k == "links" || sets.attrs[k] || sets.rels[k] {
			continue
		}
		if rel, ok := strings.CutSuffix(k, "Type"); ok && n.rest && (sets.rels[rel] || t.hasRel(rel)) {
			continue
		}
		n.unknownMember(t, k)
	}
}

// unknownIn reports the members of h, a JSON:API resource's attributes
// (or, with rels, relationships) object, that t does not define.
func (n *normalizer) unknownIn(t *table, h *Hash, keys *memberKeys, rels bool) {
	sets := keys.memberSets()
	known := sets.attrs
	if rels {
		known = sets.rels
	}
	for k := range h.All() {
		if !known[k] {
			n.unknownMember(t, k)
		}
	}
}

func (n *normalizer) unknownMember(t *table, key string) {
	n.reports.add(ReportUnknownMember, t.name, key, func() Report {
		n.in(key)
		defer n.out()
		return Report{Pointer: n.pointer(), Message: msgUnknownMember}
	})
}

func (t *table) hasRel(name string) bool {
	_, ok := t.relIdx[name]
	return ok
}

// unknownMember reports key, a member of the current attributes or
// relationships object that t does not define.
func (p *parser) unknownMember(t *table, key []byte) {
	// The name is copied only if it starts a report.
	k := unsafe.String(unsafe.SliceData(key), len(key))
	p.reports.add(ReportUnknownMember, t.name, k, func() Report {
		p.inRaw(key)
		defer p.out()
		return Report{Pointer: p.pointer(), Message: msgUnknownMember}
	})
}

// unknownKeys reports the keys of m, a Document resource's attributes or
// relationships, that known (the model's) lacks, in sorted order, so that
// which comes first does not depend on map order.
func unknownKeys[V any](p *parser, t *table, m map[string]V, known map[string]int) {
	var unknown []string
	for k := range m {
		if _, ok := known[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		p.reports.add(ReportUnknownMember, t.name, k, func() Report {
			p.in(k)
			defer p.out()
			return Report{Pointer: p.pointer(), Message: msgUnknownMember}
		})
	}
}
