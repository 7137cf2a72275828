package recstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// This file writes the whole Store to a stream and reads it back: Dump
// and Restore, so that a service can warm up from disk after a restart.
//
// The format (version 1) is a header and a sequence of frames; integers
// are encoding/binary varints unless said otherwise:
//
//	header   dumpMagic (8 bytes), the format version (2 bytes, big-endian)
//	frame    kind (1 byte), payload length (uvarint), payload,
//	         CRC-32C of kind, length and payload (4 bytes, little-endian)
//
// Frames, in order: for each type, one 'M' frame (type name; attributes as
// name and codec; relationships as name and to-many flag; the number of
// records that follow), then 'R' frames holding those records back to
// back; last, one 'E' frame (the number of records, of types, and of local
// identifiers the Store had given). Nothing may follow it. A record is:
//
//	flags        uvarint: dumpRecLoaded, dumpRecLID, dumpRecAt,
//	             dumpRecState, dumpRecMore, dumpRecInvalid, dumpRecDeadlines
//	id           string (uvarint length, bytes)
//	lid          string, if dumpRecLID
//	load time    varint, if dumpRecAt
//	deadlines    soft and hard expiry (varints), if dumpRecDeadlines
//	attributes   one value per attribute of the 'M' frame, if dumpRecLoaded
//	relations    count, then per relationship: its index in the 'M'
//	             frame, known (1 byte), the members (for a to-many, 0 for
//	             nil or the count + 1, and the keys; for a to-one, a key)
//	state        if dumpRecState: flags (dumpStNew, ...), the backend's
//	             values if dumpStRemoteValues, the changed attributes
//	             (count, indexes), the backend's state of changed
//	             relationships (as relations), validation errors (count,
//	             then name, count, messages), the last save's error
//	             message if dumpStErr
//	more         if dumpRecMore: links, meta (strings, "" for none),
//	             count, then per relationship: index, links, meta
//
// A key is a type number, then the id: 0 is the zero Key and has no id;
// n names the n-th type seen so far in the stream; one past them brings
// a new type, whose name follows.
//
// Attribute values are written by codec, worked out from the field's Go
// type: scalars (strings, booleans, integers, floats, times, and pointers
// to them) as their bits, so that every value, NaN and invalid UTF-8
// included, comes back exactly; anything else as encoding/json writes it,
// read back with the attribute's own decoder, as a push reads it.

const (
	dumpMagic   = "\x89RSDUMP\n"
	dumpVersion = 1

	dumpFrameModel   = 'M'
	dumpFrameRecords = 'R'
	dumpFrameEnd     = 'E'

	// dumpFrameTarget is the payload size at which Dump closes a records
	// frame.
	dumpFrameTarget = 64 << 10
	// dumpCtxEvery is how many records Dump and Restore handle between two
	// looks at their context.
	dumpCtxEvery = 256
)

// Record flags.
const (
	dumpRecLoaded = 1 << iota
	dumpRecLID
	dumpRecAt
	dumpRecState
	dumpRecMore
	dumpRecInvalid   // Invalidate marked it
	dumpRecDeadlines // its answer's headers gave it an expiry
	dumpRecAll       = dumpRecLoaded | dumpRecLID | dumpRecAt | dumpRecState | dumpRecMore | dumpRecInvalid | dumpRecDeadlines
)

// State flags.
const (
	dumpStNew = 1 << iota
	dumpStDeleted
	dumpStGone
	dumpStRemoteZero
	dumpStRemoteValues
	dumpStErr
	dumpStAll = dumpStNew | dumpStDeleted | dumpStGone | dumpStRemoteZero | dumpStRemoteValues | dumpStErr
)

var dumpCRCTable = crc32.MakeTable(crc32.Castagnoli)

// A dumpCodec says how an attribute's values are written.
type dumpCodec uint8

const (
	codecString dumpCodec = 1 + iota
	codecBool
	codecInt8
	codecInt16
	codecInt32
	codecInt64
	codecUint8
	codecUint16
	codecUint32
	codecUint64
	codecFloat32
	codecFloat64
	codecTime
	codecJSON
	// codecPtr marks a pointer to a value of the codec in the low bits (a
	// scalar or a time): a byte 0 for nil, or 1 and the value.
	codecPtr dumpCodec = 0x80
)

// dumpCodecOf returns the codec of attributes of Go type t.
func dumpCodecOf(t reflect.Type) dumpCodec {
	if t.Kind() == reflect.Pointer {
		if c := dumpScalarCodec(t.Elem()); c != codecJSON {
			return codecPtr | c
		}
		return codecJSON
	}
	return dumpScalarCodec(t)
}

func dumpScalarCodec(t reflect.Type) dumpCodec {
	if t == timeType {
		return codecTime
	}
	size := func(c dumpCodec) dumpCodec {
		switch t.Size() {
		case 1:
			return c
		case 2:
			return c + 1
		case 4:
			return c + 2
		}
		return c + 3
	}
	switch k := t.Kind(); {
	case k == reflect.String:
		return codecString
	case k == reflect.Bool:
		return codecBool
	case isIntKind(k):
		return size(codecInt8)
	case isUintKind(k):
		return size(codecUint8)
	case k == reflect.Float32:
		return codecFloat32
	case k == reflect.Float64:
		return codecFloat64
	}
	return codecJSON
}

// validDumpCodec reports whether c is a codec a snapshot may name.
func validDumpCodec(c dumpCodec) bool {
	if c&codecPtr != 0 {
		c &^= codecPtr
		return c >= codecString && c <= codecTime
	}
	return c >= codecString && c <= codecJSON
}

// Dump writes the whole Store to w, as one consistent state, in a
// versioned binary format that [Store.Restore] reads back: for every
// type, every record with its attributes and relationships (inverses
// included, as they are), records the Store knows only by reference,
// the links and meta records carried, local identifiers, how fresh each
// record is (when it was loaded, its Invalidate mark, the expiry its
// answer's headers gave it: see [Store.Freshness]), and each record's
// local state: attributes and relationships changed locally with the
// backend's values under them, records created and not saved, deleted,
// or whose deletion was saved, validation errors, and the last save's
// error as its message.
//
// A save in flight is written as a failed save would leave it: what it
// sends stays a local change, and a deletion in flight stays a
// deletion; the Saving flag is not kept. What the Store keeps for its
// own running is not written either: Retain handles, eviction queues
// and access counts (a Restore admits the records as a push of them
// would), subscriptions and Views. Fields without a jsonapi tag are not
// written (a push does not set them either). Attribute values of scalar
// types, times and pointers to them are written exactly (a time keeps
// its instant and its zone's name and offset, not a named zone's rules
// or a monotonic reading); other attribute values are written as
// encoding/json writes them and read back as a push reads them, so an
// any holding an int comes back as a float64. A value encoding/json
// cannot write fails Dump with encoding/json's error.
//
// Dump holds the Store's lock only while it collects the records'
// current versions, which are never changed once published, and writes
// them afterwards, so pushes go on meanwhile. It looks at ctx between
// records and stops with ctx's error when it ends; what was written to w
// by then is not a snapshot Restore accepts. Records are written in a
// stable order (types by name; in each, the records Keys lists in its
// order, then the others by id), so one state always dumps the same
// bytes.
func (s *Store) Dump(ctx context.Context, w io.Writer) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("recstore: dump: %w", err)
	}
	tables, recs, extras, lidSeq := s.dumpState()
	dw := &dumpWriter{w: bufio.NewWriterSize(w, 64<<10), types: map[string]uint64{}}
	dw.enc = json.NewEncoder(&dw.js)
	dw.enc.SetEscapeHTML(false)
	hdr := binary.BigEndian.AppendUint16([]byte(dumpMagic), dumpVersion)
	if _, err := dw.w.Write(hdr); err != nil {
		return fmt.Errorf("recstore: dump: %w", err)
	}
	total := 0
	for i, t := range tables {
		dw.model(t, len(recs[i]))
		if err := dw.frame(dumpFrameModel); err != nil {
			return fmt.Errorf("recstore: dump: %w", err)
		}
		for j := range recs[i] {
			if j%dumpCtxEvery == 0 {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("recstore: dump: %w", err)
				}
			}
			r := &recs[i][j]
			x := &dumpExtra{}
			if r.x > 0 {
				x = &extras[r.x-1]
			}
			if err := dw.record(t, r, x); err != nil {
				return err
			}
			if len(dw.buf) >= dumpFrameTarget {
				if err := dw.frame(dumpFrameRecords); err != nil {
					return fmt.Errorf("recstore: dump: %w", err)
				}
			}
		}
		if len(dw.buf) > 0 {
			if err := dw.frame(dumpFrameRecords); err != nil {
				return fmt.Errorf("recstore: dump: %w", err)
			}
		}
		total += len(recs[i])
	}
	dw.buf = binary.AppendUvarint(dw.buf, uint64(total))
	dw.buf = binary.AppendUvarint(dw.buf, uint64(len(tables)))
	dw.buf = binary.AppendUvarint(dw.buf, lidSeq)
	if err := dw.frame(dumpFrameEnd); err != nil {
		return fmt.Errorf("recstore: dump: %w", err)
	}
	if err := dw.w.Flush(); err != nil {
		return fmt.Errorf("recstore: dump: %w", err)
	}
	return nil
}

// dumpRec is one entry as Dump found it under the Store's lock: its
// version and load time, and what few entries have besides.
type dumpRec struct {
	e  *entry
	v  *version
	at int64
	x  int32 // 1 + the index of its dumpExtra; 0 for none
}

// dumpExtra is what an entry has besides its version, when it has any.
type dumpExtra struct {
	m       *more
	lid     string
	invalid bool
	dl      deadlines
}

// dumpState collects, under the Store's lock, the published version of
// every entry of every table (tables by name; in each, the records listed
// in the order they were loaded, then the others by id), with their links
// and meta, local identifiers, load times, Invalidate marks and expiry
// deadlines; and how many local identifiers the Store has given. It
// allocates before it locks, and reads no version under the lock but to
// tell the records listed from the others.
func (s *Store) dumpState() ([]*table, [][]dumpRec, []dumpExtra, uint64) {
	var tables []*table
	for _, name := range s.Types() {
		tables = append(tables, s.lookupType(name))
	}
	out := make([][]dumpRec, len(tables))
	for i, t := range tables {
		out[i] = make([]dumpRec, 0, t.live.Load()+t.live.Load()/8+16)
	}
	listed := make([]int, len(tables))
	var extras []dumpExtra
	s.mu.Lock()
	for i, t := range tables {
		recs := out[i]
		lids, more, dls := t.hasLIDs.Load(), t.hasMore.Load(), t.hasDeadlines.Load()
		add := func(e *entry, v *version) {
			r := dumpRec{e: e, v: v, at: e.at.Load()}
			x := dumpExtra{invalid: e.meta.Load()&metaInvalid != 0}
			if lids {
				x.lid = t.lidOf(e)
			}
			if more {
				x.m = t.moreOf(e)
			}
			if dls {
				if dl, ok := t.deadlines.Load(e); ok {
					x.dl = dl.(deadlines)
				}
			}
			if x != (dumpExtra{}) {
				extras = append(extras, x)
				r.x = int32(len(extras))
			}
			recs = append(recs, r)
		}
		// Every listed record is in order once: a record leaves the list
		// only by being unloaded (its entry then leaves byID) or by its
		// deletion being saved, which is for good.
		for _, e := range *t.order.Load() {
			if v := e.cur.Load(); v.listed() {
				add(e, v)
			}
		}
		listed[i] = len(recs)
		t.byID.all(func(e *entry) bool {
			if v := e.cur.Load(); v != nil && !v.listed() {
				add(e, v)
			}
			return true
		})
		out[i] = recs
	}
	lidSeq := s.lidSeq.Load()
	s.mu.Unlock()
	// The others by id, not in the id map's order, which differs between
	// Stores: one state always dumps the same bytes.
	for i, recs := range out {
		slices.SortFunc(recs[listed[i]:], func(a, b dumpRec) int { return strings.Compare(a.e.id, b.e.id) })
	}
	return tables, out, extras, lidSeq
}

// dumpWriter writes a snapshot, frame by frame.
type dumpWriter struct {
	w     *bufio.Writer
	buf   []byte            // the payload of the frame being built
	types map[string]uint64 // the key types written so far, numbered from 1
	js    bytes.Buffer      // JSON-valued attributes, one at a time
	enc   *json.Encoder     // writes to js
}

// frame writes buf as a frame of the given kind and empties it.
func (dw *dumpWriter) frame(kind byte) error {
	hdr := binary.AppendUvarint([]byte{kind}, uint64(len(dw.buf)))
	crc := crc32.Update(crc32.Update(0, dumpCRCTable, hdr), dumpCRCTable, dw.buf)
	dw.w.Write(hdr)
	dw.w.Write(dw.buf)
	_, err := dw.w.Write(binary.LittleEndian.AppendUint32(nil, crc)) // a bufio.Writer's errors stick
	dw.buf = dw.buf[:0]
	return err
}

// model writes t's 'M' frame payload.
func (dw *dumpWriter) model(t *table, n int) {
	b := appendDumpString(dw.buf, t.name)
	b = binary.AppendUvarint(b, uint64(len(t.attrs)))
	for i := range t.attrs {
		b = appendDumpString(b, t.attrs[i].name)
		b = append(b, byte(dumpCodecOf(t.attrs[i].typ)))
	}
	b = binary.AppendUvarint(b, uint64(len(t.rels)))
	for i := range t.rels {
		b = appendDumpString(b, t.rels[i].name)
		b = appendDumpBool(b, t.rels[i].many)
	}
	dw.buf = binary.AppendUvarint(b, uint64(n))
}

// record appends one record to the frame being built.
func (dw *dumpWriter) record(t *table, r *dumpRec, x *dumpExtra) error {
	v := r.v
	st := dumpedState(t, v)
	var flags uint64
	if v.val != nil {
		flags |= dumpRecLoaded
	}
	if x.lid != "" {
		flags |= dumpRecLID
	}
	if r.at != 0 {
		flags |= dumpRecAt
	}
	if st != nil {
		flags |= dumpRecState
	}
	if x.m != nil {
		flags |= dumpRecMore
	}
	if x.invalid {
		flags |= dumpRecInvalid
	}
	if x.dl != (deadlines{}) {
		flags |= dumpRecDeadlines
	}
	b := binary.AppendUvarint(dw.buf, flags)
	b = appendDumpString(b, r.e.id)
	if x.lid != "" {
		b = appendDumpString(b, x.lid)
	}
	if r.at != 0 {
		b = binary.AppendVarint(b, r.at)
	}
	if x.dl != (deadlines{}) {
		b = binary.AppendVarint(b, x.dl.soft)
		b = binary.AppendVarint(b, x.dl.hard)
	}
	var err error
	if v.val != nil {
		if b, err = dw.values(t, b, r.e.id, v.val); err != nil {
			return err
		}
	}
	b = dw.rels(t, b, v.relsOf())
	if st != nil {
		if b, err = dw.state(t, b, r.e.id, st); err != nil {
			return err
		}
	}
	if x.m != nil {
		b = appendDumpString(b, x.m.links)
		b = appendDumpString(b, x.m.meta)
		b = binary.AppendUvarint(b, uint64(len(x.m.rels)))
		for _, rm := range x.m.rels {
			b = binary.AppendUvarint(b, uint64(rm.ri))
			b = appendDumpString(b, rm.links)
			b = appendDumpString(b, rm.meta)
		}
	}
	dw.buf = b
	return nil
}

// dumpedState returns the recState Dump writes for v: nil for a record as
// the backend sent it, and for a save in flight the state a failure of
// that save would leave (see failSave).
func dumpedState(t *table, v *version) *recState {
	st := v.st
	if st == nil {
		return nil
	}
	if st.saving {
		cp := *st
		cp.saving, cp.fly, cp.flySet, cp.flyRels, cp.flyDelete = false, nil, bitset{}, nil, false
		cp.deleted = st.deleted || st.flyDelete
		cp.local = bitset{}
		if v.val != nil && st.remote != nil {
			for i := range t.attrs {
				if (st.local.has(i) || st.flySet.has(i)) && !t.attrs[i].equal(unsafe.Add(v.val, t.attrs[i].off), st.canonical(t, i)) {
					cp.local.add(i)
				}
			}
		}
		st = &cp
	}
	if st.clean() {
		return nil
	}
	return st
}

func (dw *dumpWriter) state(t *table, b []byte, id string, st *recState) ([]byte, error) {
	var flags uint64
	if st.isNew {
		flags |= dumpStNew
	}
	if st.deleted {
		flags |= dumpStDeleted
	}
	if st.gone {
		flags |= dumpStGone
	}
	switch {
	case st.remote == nil:
	case st.remote == t.zero:
		flags |= dumpStRemoteZero
	default:
		flags |= dumpStRemoteValues
	}
	if st.err != nil {
		flags |= dumpStErr
	}
	b = binary.AppendUvarint(b, flags)
	if flags&dumpStRemoteValues != 0 {
		var err error
		if b, err = dw.values(t, b, id, st.remote); err != nil {
			return b, err
		}
	}
	n := 0
	for i := range t.attrs {
		if st.local.has(i) {
			n++
		}
	}
	b = binary.AppendUvarint(b, uint64(n))
	for i := range t.attrs {
		if st.local.has(i) {
			b = binary.AppendUvarint(b, uint64(i))
		}
	}
	b = dw.rels(t, b, st.canon)
	b = binary.AppendUvarint(b, uint64(len(st.errs)))
	// In name order, so that one state always dumps the same bytes.
	for _, k := range slices.Sorted(maps.Keys(st.errs)) {
		b = appendDumpString(b, k)
		b = binary.AppendUvarint(b, uint64(len(st.errs[k])))
		for _, msg := range st.errs[k] {
			b = appendDumpString(b, msg)
		}
	}
	if st.err != nil {
		b = appendDumpString(b, st.err.Error())
	}
	return b, nil
}

// rels appends relationship states.
func (dw *dumpWriter) rels(t *table, b []byte, rels []relState) []byte {
	b = binary.AppendUvarint(b, uint64(len(rels)))
	for i := range rels {
		rs := &rels[i]
		ri := int(rs.tag) - 1
		b = binary.AppendUvarint(b, uint64(ri))
		b = appendDumpBool(b, rs.known)
		if t.rels[ri].many {
			b = appendDumpLen(b, rs.many)
			for _, k := range rs.many {
				b = dw.key(b, k)
			}
		} else {
			b = dw.key(b, rs.one)
		}
	}
	return b
}

func (dw *dumpWriter) key(b []byte, k Key) []byte {
	if k.IsZero() {
		return append(b, 0)
	}
	n, ok := dw.types[k.Type]
	if !ok {
		n = uint64(len(dw.types) + 1)
		dw.types[k.Type] = n
		b = binary.AppendUvarint(b, n)
		b = appendDumpString(b, k.Type)
	} else {
		b = binary.AppendUvarint(b, n)
	}
	return appendDumpString(b, k.ID)
}

// values appends every attribute of the T at val.
func (dw *dumpWriter) values(t *table, b []byte, id string, val unsafe.Pointer) ([]byte, error) {
	for i := range t.attrs {
		a := &t.attrs[i]
		var err error
		if b, err = dw.value(b, dumpCodecOf(a.typ), a.typ, unsafe.Add(val, a.off)); err != nil {
			return b, fmt.Errorf("recstore: dump: %s %q: attribute %s (Go type %s): %w", t.name, id, a.name, a.typ, err)
		}
	}
	return b, nil
}

// value appends the value of Go type typ at p.
func (dw *dumpWriter) value(b []byte, c dumpCodec, typ reflect.Type, p unsafe.Pointer) ([]byte, error) {
	if c&codecPtr != 0 {
		q := *(*unsafe.Pointer)(p)
		if q == nil {
			return append(b, 0), nil
		}
		return dw.value(append(b, 1), c&^codecPtr, typ.Elem(), q)
	}
	switch c {
	case codecString:
		return appendDumpString(b, *(*string)(p)), nil
	case codecBool:
		return appendDumpBool(b, *(*bool)(p)), nil
	case codecInt8:
		return binary.AppendVarint(b, int64(*(*int8)(p))), nil
	case codecInt16:
		return binary.AppendVarint(b, int64(*(*int16)(p))), nil
	case codecInt32:
		return binary.AppendVarint(b, int64(*(*int32)(p))), nil
	case codecInt64:
		return binary.AppendVarint(b, *(*int64)(p)), nil
	case codecUint8:
		return binary.AppendUvarint(b, uint64(*(*uint8)(p))), nil
	case codecUint16:
		return binary.AppendUvarint(b, uint64(*(*uint16)(p))), nil
	case codecUint32:
		return binary.AppendUvarint(b, uint64(*(*uint32)(p))), nil
	case codecUint64:
		return binary.AppendUvarint(b, *(*uint64)(p)), nil
	case codecFloat32:
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(*(*float32)(p))), nil
	case codecFloat64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(*(*float64)(p))), nil
	case codecTime:
		return appendDumpTime(b, *(*time.Time)(p)), nil
	}
	dw.js.Reset()
	// Through a pointer, so that MarshalJSON methods on *T count, as
	// UnmarshalJSON methods on *T do when the value is read back.
	if err := dw.enc.Encode(reflect.NewAt(typ, p).Interface()); err != nil {
		return b, err
	}
	raw := bytes.TrimSuffix(dw.js.Bytes(), []byte{'\n'})
	b = binary.AppendUvarint(b, uint64(len(raw)))
	return append(b, raw...), nil
}

// Time zones: the zero Time, UTC, Local, or a fixed zone (name and
// offset follow).
const (
	dumpTZZero = iota
	dumpTZUTC
	dumpTZLocal
	dumpTZFixed
)

func appendDumpTime(b []byte, tm time.Time) []byte {
	if tm == (time.Time{}) {
		return append(b, dumpTZZero)
	}
	loc := tm.Location()
	switch loc {
	case time.UTC:
		b = append(b, dumpTZUTC)
	case time.Local:
		b = append(b, dumpTZLocal)
	default:
		b = append(b, dumpTZFixed)
	}
	b = binary.AppendVarint(b, tm.Unix())
	b = binary.AppendUvarint(b, uint64(tm.Nanosecond()))
	if loc != time.UTC && loc != time.Local {
		name, off := tm.Zone()
		b = appendDumpString(b, name)
		b = binary.AppendVarint(b, int64(off))
	}
	return b
}

// appendDumpLen appends the length of a list whose nil and empty differ:
// 0 for nil, else the length + 1.
func appendDumpLen[E any](b []byte, l []E) []byte {
	if l == nil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(len(l))+1)
}

func appendDumpString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendDumpBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// Restore reads a snapshot that [Store.Dump] wrote into s, which must
// hold no records, not even by reference (else the error wraps
// ErrNotEmpty), and must have a model registered under each type name
// the snapshot holds records of. It reads r to its end, and checks the
// whole snapshot before it changes anything, and then installs it in one
// step, as one push would: readers see the Store empty, then whole. Any
// failure leaves the Store as it was: empty.
//
// A snapshot that is truncated, corrupted (each frame has a CRC-32C),
// followed by more data, or written in another format version fails with
// a *SnapshotError (matching ErrBadSnapshot) that gives the byte offset
// of the problem. Models are matched by type name, and their members by
// name: an attribute or relationship the model no longer has is dropped
// from the restored records, as a push drops an unknown member, and one
// the snapshot does not have is left zero or unknown. A type with no
// model (unless the snapshot has no records of it), an attribute whose
// Go type has changed codec (a string now an int, a time now a
// *time.Time), a relationship that changed between to-one and to-many,
// or a value the attribute's Go type can no longer hold fails with an
// error wrapping ErrSnapshotMismatch. Inverses are restored as they were
// dumped, from both sides, not relinked.
//
// The records restored reach subscribers as one batch of EventAdded
// events, open Views, and a bounded Store's eviction, as those of a push
// would; they keep their load times, so a Store with an Expiry finds
// them as fresh or stale as they were. A State.Err restored is an error
// with the message of the one dumped; the next local identifiers follow
// those of the dumped Store. Restore looks at ctx between records, and
// fails with ctx's error, restoring nothing, when it ends. Errors
// reading r are returned wrapped.
func (s *Store) Restore(ctx context.Context, r io.Reader) error {
	s.mu.Lock()
	err := s.checkEmpty()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	d := &dumpReader{s: s, br: bufio.NewReaderSize(r, 64<<10), c: newCommit(s)}
	if err := d.read(ctx); err != nil {
		return err
	}
	return s.install(ctx, d)
}

// checkEmpty reports an error wrapping ErrNotEmpty unless no table holds
// an entry. Called with Store.mu held.
func (s *Store) checkEmpty() error {
	for _, name := range s.Types() {
		if n := s.lookupType(name).byID.live; n > 0 {
			return fmt.Errorf("%w: type %q holds %d records or references", ErrNotEmpty, name, n)
		}
	}
	return nil
}

// dumpModelIn is one type of a snapshot being read.
type dumpModelIn struct {
	t     *table // nil for a type with no model and no records
	name  string
	attrs []dumpAttrIn // by index in the snapshot
	rels  []dumpRelIn  // by index in the snapshot
	want  int          // the records its 'M' frame announced
	n     int          // the records read
}

// dumpAttrIn is one attribute of a snapshot: its codec, and the model's
// attribute it goes to (nil: dropped).
type dumpAttrIn struct {
	c dumpCodec
	a *attrField
	i int // a's index in the model
}

// dumpRelIn is one relationship of a snapshot: whether it is to-many, and
// the model's relationship it goes to (-1: dropped).
type dumpRelIn struct {
	many bool
	ri   int
}

// dumpLIDIn is the local identifier of a record read.
type dumpLIDIn struct {
	t   *table
	e   *entry
	lid string
	off int64
}

// dumpReader reads a snapshot.
type dumpReader struct {
	s   *Store
	br  *bufio.Reader
	off int64 // bytes read from br

	buf  []byte // the payload of the frame being decoded
	pos  int    // the read position in buf
	base int64  // the offset of buf[0] in the input
	err  error  // the first error decoding buf

	lidSeq uint64          // the local identifiers the dumped Store had given
	types  []string        // key types seen so far
	seen   map[string]bool // the types of the 'M' frames read
	// zone is the last fixed time zone read, with its name and offset:
	// the times of one snapshot are mostly in one zone.
	zone     *time.Location
	zoneName string
	zoneOff  int
	models   []*dumpModelIn
	cur      *dumpModelIn
	total    int

	// c is the commit that will install the records: each record read
	// becomes a draft of it, with a new entry that no one else sees
	// until it is installed. offs holds where each draft's record
	// starts, and lids their local identifiers.
	c    *commit
	offs []int64
	lids []dumpLIDIn
	dls  []dumpDeadlinesIn
}

// dumpDeadlinesIn is the expiry deadlines of a record read.
type dumpDeadlinesIn struct {
	t  *table
	e  *entry
	dl deadlines
}

func (d *dumpReader) bad(off int64, err error) error {
	return &SnapshotError{Offset: off, Err: err}
}

// read reads and checks the whole snapshot.
func (d *dumpReader) read(ctx context.Context) error {
	var hdr [len(dumpMagic) + 2]byte
	n, err := io.ReadFull(d.br, hdr[:])
	d.off = int64(n)
	if err != nil {
		return d.readErr(err, "the header")
	}
	if string(hdr[:len(dumpMagic)]) != dumpMagic {
		return d.bad(0, errors.New("not a recstore snapshot"))
	}
	if v := binary.BigEndian.Uint16(hdr[len(dumpMagic):]); v != dumpVersion {
		return d.bad(int64(len(dumpMagic)), fmt.Errorf("format version %d; this Store reads version %d", v, dumpVersion))
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("recstore: restore: %w", err)
		}
		start := d.off
		kind, err := d.frame()
		if err != nil {
			return err
		}
		switch kind {
		case dumpFrameModel:
			d.model(start)
		case dumpFrameRecords:
			d.records(ctx, start)
		case dumpFrameEnd:
			d.end(start)
			if d.err != nil {
				return d.err
			}
			switch _, err := d.br.ReadByte(); {
			case err == nil:
				return d.bad(d.off, errors.New("data after the end of the snapshot"))
			case err != io.EOF:
				return fmt.Errorf("recstore: restore: %w", err)
			}
			return nil
		default:
			return d.bad(start, fmt.Errorf("unknown frame kind %q", kind))
		}
		if d.err != nil {
			return d.err
		}
	}
}

// readErr turns an error reading what (a part of the snapshot) into the
// error Restore returns: a truncation for an early end, else the reader's
// error.
func (d *dumpReader) readErr(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return d.bad(d.off, fmt.Errorf("truncated in %s: %w", what, io.ErrUnexpectedEOF))
	}
	return fmt.Errorf("recstore: restore: %w", err)
}

// frame reads the next frame and checks its CRC. Its payload is in buf.
func (d *dumpReader) frame() (byte, error) {
	start := d.off
	kind, err := d.br.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, d.bad(d.off, fmt.Errorf("truncated: the snapshot ends before its end frame: %w", io.ErrUnexpectedEOF))
		}
		return 0, d.readErr(err, "a frame")
	}
	d.off++
	// The length, kept as read for the checksum.
	hdr := []byte{kind}
	var n uint64
	for shift := uint(0); ; shift += 7 {
		c, err := d.br.ReadByte()
		if err != nil {
			return 0, d.readErr(err, "a frame header")
		}
		d.off++
		hdr = append(hdr, c)
		if shift == 63 && c > 1 {
			return 0, d.bad(d.off-1, errors.New("malformed frame length"))
		}
		n |= uint64(c&0x7f) << shift
		if c < 0x80 {
			break
		}
	}
	if n > math.MaxInt32 {
		return 0, d.bad(start, fmt.Errorf("frame of %d bytes", n))
	}
	// Read as the bytes come, so that a corrupt length costs no more
	// memory than the input holds.
	d.buf = d.buf[:0]
	for len(d.buf) < int(n) {
		chunk := min(int(n)-len(d.buf), 1<<20)
		d.buf = slices.Grow(d.buf, chunk)
		m, err := io.ReadFull(d.br, d.buf[len(d.buf):len(d.buf)+chunk])
		d.buf = d.buf[:len(d.buf)+m]
		d.off += int64(m)
		if err != nil {
			return 0, d.readErr(err, "a frame")
		}
	}
	var sum [4]byte
	m, err := io.ReadFull(d.br, sum[:])
	d.off += int64(m)
	if err != nil {
		return 0, d.readErr(err, "a frame checksum")
	}
	crc := crc32.Update(crc32.Update(0, dumpCRCTable, hdr), dumpCRCTable, d.buf)
	if crc != binary.LittleEndian.Uint32(sum[:]) {
		return 0, d.bad(start, errors.New("checksum mismatch"))
	}
	d.pos, d.base, d.err = 0, d.off-4-int64(len(d.buf)), nil
	return kind, nil
}

// fail records a malformed payload at the read position, and stops
// reading it.
func (d *dumpReader) fail(format string, args ...any) {
	if d.err == nil {
		d.err = d.bad(d.base+int64(d.pos), fmt.Errorf(format, args...))
	}
	d.pos = len(d.buf)
}

// mismatch records a snapshot that does not fit the Store's models.
func (d *dumpReader) mismatch(err error) {
	if d.err == nil {
		d.err = &dumpMismatchError{err}
	}
	d.pos = len(d.buf)
}

// dumpMismatchError is the error of a snapshot that does not fit the Store's
// models: it matches ErrSnapshotMismatch and what it wraps.
type dumpMismatchError struct{ err error }

func (e *dumpMismatchError) Error() string {
	return ErrSnapshotMismatch.Error() + ": " + errText(e.err)
}

func (e *dumpMismatchError) Unwrap() []error { return []error{ErrSnapshotMismatch, e.err} }

func (d *dumpReader) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf[d.pos:])
	if n <= 0 {
		d.fail("malformed varint")
		return 0
	}
	d.pos += n
	return v
}

func (d *dumpReader) varint() int64 {
	v, n := binary.Varint(d.buf[d.pos:])
	if n <= 0 {
		d.fail("malformed varint")
		return 0
	}
	d.pos += n
	return v
}

// count reads a count of items of at least one byte each: it cannot
// exceed the bytes left.
func (d *dumpReader) count() int {
	v := d.uvarint()
	if v > uint64(len(d.buf)-d.pos) {
		d.fail("count %d past the end of its frame", v)
		return 0
	}
	return int(v)
}

// listLen reads the length of a list written by appendDumpLen, and false for
// nil.
func (d *dumpReader) listLen() (int, bool) {
	v := d.uvarint()
	if v == 0 {
		return 0, false
	}
	if v-1 > uint64(len(d.buf)-d.pos) {
		d.fail("count %d past the end of its frame", v-1)
		return 0, false
	}
	return int(v - 1), true
}

// bytes reads a length and that many bytes, which point into buf.
func (d *dumpReader) bytes() []byte {
	n := d.count()
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b
}

func (d *dumpReader) str() string { return string(d.bytes()) }

func (d *dumpReader) byte1() byte {
	if d.pos >= len(d.buf) {
		d.fail("unexpected end of frame")
		return 0
	}
	d.pos++
	return d.buf[d.pos-1]
}

func (d *dumpReader) bool1() bool {
	switch d.byte1() {
	case 0:
		return false
	case 1:
		return true
	}
	d.pos--
	d.fail("malformed boolean")
	return false
}

func (d *dumpReader) fixed(n int) []byte {
	if len(d.buf)-d.pos < n {
		d.fail("unexpected end of frame")
		return make([]byte, n)
	}
	d.pos += n
	return d.buf[d.pos-n : d.pos]
}

// done checks that the frame was read to its end.
func (d *dumpReader) done() {
	if d.err == nil && d.pos != len(d.buf) {
		d.fail("%d bytes left over in the frame", len(d.buf)-d.pos)
	}
}

// closeModel checks that the model being read got the records its frame
// announced.
func (d *dumpReader) closeModel(at int64) {
	if m := d.cur; m != nil && m.n != m.want && d.err == nil {
		d.err = d.bad(at, fmt.Errorf("type %q has %d records, its header announced %d", m.name, m.n, m.want))
	}
}

// model reads an 'M' frame.
func (d *dumpReader) model(start int64) {
	d.closeModel(start)
	name := d.str()
	m := &dumpModelIn{}
	type member struct {
		name string
		c    dumpCodec
		many bool
	}
	attrs := make([]member, d.count())
	for i := 0; i < len(attrs) && d.err == nil; i++ {
		attrs[i].name = d.str()
		if attrs[i].c = dumpCodec(d.byte1()); !validDumpCodec(attrs[i].c) && d.err == nil {
			d.pos--
			d.fail("unknown codec %d", attrs[i].c)
		}
	}
	rels := make([]member, d.count())
	for i := 0; i < len(rels) && d.err == nil; i++ {
		rels[i].name = d.str()
		rels[i].many = d.bool1()
	}
	want := d.uvarint()
	d.done()
	if d.err != nil {
		return
	}
	if want > math.MaxInt32 {
		d.fail("type %q announces %d records", name, want)
		return
	}
	if d.seen[name] {
		d.fail("type %q appears twice", name)
		return
	}
	if d.seen == nil {
		d.seen = map[string]bool{}
	}
	d.seen[name] = true
	t := d.s.lookupType(name)
	if t == nil {
		if want > 0 {
			d.mismatch(fmt.Errorf("%w %q", ErrUnknownType, name))
			return
		}
		// A type the Store has no model for, but no records either.
		d.cur = &dumpModelIn{name: name}
		return
	}
	m.t, m.name, m.want = t, name, int(want)
	m.attrs = make([]dumpAttrIn, len(attrs))
	for i, a := range attrs {
		m.attrs[i] = dumpAttrIn{c: a.c, i: -1}
		ci, ok := t.attrIdx[a.name]
		if !ok {
			continue
		}
		if now := dumpCodecOf(t.attrs[ci].typ); now != a.c {
			d.mismatch(fmt.Errorf("attribute %s.%s was written as %s and is a %s now", name, a.name, a.c, t.attrs[ci].typ))
			return
		}
		m.attrs[i].a, m.attrs[i].i = &t.attrs[ci], ci
	}
	m.rels = make([]dumpRelIn, len(rels))
	for i, r := range rels {
		m.rels[i] = dumpRelIn{many: r.many, ri: -1}
		ri, ok := t.relIdx[r.name]
		if !ok {
			continue
		}
		if t.rels[ri].many != r.many {
			d.mismatch(fmt.Errorf("relationship %s.%s changed between to-one and to-many", name, r.name))
			return
		}
		m.rels[i].ri = ri
	}
	d.models = append(d.models, m)
	d.cur = m
}

// String names a dumpCodec, for messages.
func (c dumpCodec) String() string {
	names := [...]string{codecString: "string", codecBool: "bool", codecInt8: "int8", codecInt16: "int16", codecInt32: "int32",
		codecInt64: "int64", codecUint8: "uint8", codecUint16: "uint16", codecUint32: "uint32", codecUint64: "uint64",
		codecFloat32: "float32", codecFloat64: "float64", codecTime: "time", codecJSON: "JSON"}
	if c&codecPtr != 0 {
		return "pointer to " + (c &^ codecPtr).String()
	}
	if int(c) < len(names) && names[c] != "" {
		return names[c]
	}
	return fmt.Sprintf("codec(%d)", uint8(c))
}

// records reads an 'R' frame.
func (d *dumpReader) records(ctx context.Context, start int64) {
	m := d.cur
	if m == nil {
		d.err = d.bad(start, errors.New("records before any type"))
		return
	}
	for n := 0; d.pos < len(d.buf) && d.err == nil; n++ {
		if n%dumpCtxEvery == dumpCtxEvery-1 {
			if err := ctx.Err(); err != nil {
				d.err = fmt.Errorf("recstore: restore: %w", err)
				return
			}
		}
		if m.n == m.want {
			d.fail("type %q has more records than its header announced", m.name)
			return
		}
		d.record(m)
	}
}

// end reads the 'E' frame.
func (d *dumpReader) end(start int64) {
	d.closeModel(start)
	total, models := d.uvarint(), d.uvarint()
	d.lidSeq = d.uvarint()
	d.done()
	if d.err != nil {
		return
	}
	d.total = len(d.c.drafts)
	if total != uint64(d.total) || models != uint64(len(d.seen)) {
		d.err = d.bad(start, fmt.Errorf("the end frame counts %d records of %d types, the snapshot holds %d of %d", total, models, d.total, len(d.seen)))
	}
}

// record reads one record of m.
func (d *dumpReader) record(m *dumpModelIn) {
	t := m.t
	off := d.base + int64(d.pos)
	flags := d.uvarint()
	if flags&^dumpRecAll != 0 {
		d.fail("unknown record flags %#x", flags)
		return
	}
	id := d.str()
	if id == "" && d.err == nil {
		d.fail("a record with no id")
		return
	}
	var lid string
	if flags&dumpRecLID != 0 {
		if lid = d.str(); !strings.HasPrefix(lid, LIDPrefix) && d.err == nil {
			d.fail("local identifier %q lacks the prefix %q", lid, LIDPrefix)
			return
		}
	}
	var at int64
	if flags&dumpRecAt != 0 {
		at = d.varint()
	}
	var dl deadlines
	if flags&dumpRecDeadlines != 0 {
		dl.soft, dl.hard = d.varint(), d.varint()
	}
	var v *version
	if flags&dumpRecLoaded != 0 {
		v = t.newVersion()
		d.values(m, id, v.val)
		if lid != id && d.err == nil {
			if err := t.setPrimary(v.val, id); err != nil {
				d.mismatch(err)
				return
			}
		}
	} else {
		v = &version{}
	}
	v.setRels(d.rels(m))
	if flags&dumpRecState != 0 {
		v.st = d.state(m, id, v)
	}
	var mo *more
	if flags&dumpRecMore != 0 {
		mo = d.more(m)
	}
	if d.err != nil {
		return
	}
	c := d.c
	e := &entry{id: id} // the reader's own until it is installed
	e.at.Store(at)
	if flags&dumpRecInvalid != 0 {
		e.setMeta(metaInvalid, true)
	}
	if dl != (deadlines{}) {
		d.dls = append(d.dls, dumpDeadlinesIn{t, e, dl})
	}
	dr := c.newDraft()
	*dr = draft{e: e, t: t, v: v, ownVal: true, ownRels: true, ownSt: true, ownRem: true, created: true}
	e.draft = dr
	c.drafts = append(c.drafts, dr)
	d.offs = append(d.offs, off)
	if mo != nil {
		if c.more == nil {
			c.more = map[*draft]*more{}
		}
		c.more[dr] = mo
	}
	if lid != "" {
		d.lids = append(d.lids, dumpLIDIn{t, e, lid, off})
	}
	m.n++
}

// values reads every attribute of the snapshot's model into the T at val.
func (d *dumpReader) values(m *dumpModelIn, id string, val unsafe.Pointer) {
	for i := range m.attrs {
		in := &m.attrs[i]
		var p unsafe.Pointer
		if in.a != nil {
			p = unsafe.Add(val, in.a.off)
		}
		d.value(m, id, in, in.c, p)
		if d.err != nil {
			return
		}
	}
}

// value reads one value of codec c into p, or skips it for a nil p.
func (d *dumpReader) value(m *dumpModelIn, id string, in *dumpAttrIn, c dumpCodec, p unsafe.Pointer) {
	if c&codecPtr != 0 {
		if !d.bool1() {
			if p != nil {
				*(*unsafe.Pointer)(p) = nil
			}
			return
		}
		var q unsafe.Pointer
		if p != nil {
			q = reflect.New(in.a.typ.Elem()).UnsafePointer()
		}
		d.value(m, id, in, c&^codecPtr, q)
		if p != nil {
			*(*unsafe.Pointer)(p) = q
		}
		return
	}
	switch c {
	case codecString:
		if p == nil {
			d.bytes()
			return
		}
		*(*string)(p) = d.str()
		return
	case codecBool:
		v := d.bool1()
		if p != nil {
			*(*bool)(p) = v
		}
		return
	case codecFloat32:
		v := binary.LittleEndian.Uint32(d.fixed(4))
		if p != nil {
			*(*uint32)(p) = v
		}
		return
	case codecFloat64:
		v := binary.LittleEndian.Uint64(d.fixed(8))
		if p != nil {
			*(*uint64)(p) = v
		}
		return
	case codecTime:
		v := d.time()
		if p != nil {
			*(*time.Time)(p) = v
		}
		return
	case codecJSON:
		raw := d.bytes()
		if p == nil || d.err != nil {
			return
		}
		sc := scanner{buf: raw, maxDepth: MaxDepthCeiling}
		err := in.a.decode(&sc, p)
		if err == nil && !sc.atEnd() {
			err = errors.New("data after the value")
		}
		if err != nil {
			d.mismatch(&AttributeError{Type: m.t.name, ID: id, Attr: in.a.name, Value: shortText(string(raw), 64), GoType: in.a.typ, Err: err})
		}
		return
	}
	if c >= codecInt8 && c <= codecInt64 {
		v := d.varint()
		bits := uint(8) << (c - codecInt8)
		if bits < 64 && (v < -1<<(bits-1) || v >= 1<<(bits-1)) {
			d.fail("integer %d overflows %d bits", v, bits)
			return
		}
		if p != nil {
			setInt(p, uintptr(bits/8), uint64(v))
		}
		return
	}
	// codecUint8 to codecUint64: validDumpCodec admits nothing else.
	v := d.uvarint()
	bits := uint(8) << (c - codecUint8)
	if bits < 64 && v >= 1<<bits {
		d.fail("integer %d overflows %d bits", v, bits)
		return
	}
	if p != nil {
		setInt(p, uintptr(bits/8), v)
	}
}

// time reads a time.Time.
func (d *dumpReader) time() time.Time {
	tz := d.byte1()
	if tz == dumpTZZero || d.err != nil {
		return time.Time{}
	}
	sec, nsec := d.varint(), d.uvarint()
	if nsec >= 1e9 && d.err == nil {
		d.fail("a time with %d nanoseconds", nsec)
	}
	tm := time.Unix(sec, int64(nsec)) // in Local
	switch tz {
	case dumpTZUTC:
		return tm.UTC()
	case dumpTZLocal:
		return tm
	case dumpTZFixed:
		name, off := d.str(), d.varint()
		if off < -1<<31 || off >= 1<<31 {
			d.fail("a time zone offset of %d seconds", off)
			return time.Time{}
		}
		if d.zone == nil || d.zoneName != name || d.zoneOff != int(off) {
			d.zone, d.zoneName, d.zoneOff = time.FixedZone(name, int(off)), name, int(off)
		}
		return tm.In(d.zone)
	}
	d.fail("unknown time zone kind %d", tz)
	return time.Time{}
}

// rels reads relationship states, keeping those the model has, sorted by
// tag as a version keeps them.
func (d *dumpReader) rels(m *dumpModelIn) []relState {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]relState, 0, n)
	sorted := true
	for i := 0; i < n && d.err == nil; i++ {
		di := d.uvarint()
		if di >= uint64(len(m.rels)) {
			d.fail("relationship %d of %d", di, len(m.rels))
			return nil
		}
		in := m.rels[di]
		rs := relState{known: d.bool1()}
		if in.many {
			if k, ok := d.listLen(); ok {
				rs.many = make([]Key, k)
				for j := 0; j < len(rs.many) && d.err == nil; j++ {
					if rs.many[j] = d.key(); rs.many[j].IsZero() && d.err == nil {
						d.fail("a to-many relationship holds a zero key")
					}
				}
			}
		} else {
			rs.one = d.key()
		}
		if in.ri < 0 {
			continue
		}
		rs.tag = int32(in.ri) + 1
		if len(out) > 0 && out[len(out)-1].tag >= rs.tag {
			sorted = false
		}
		out = append(out, rs)
	}
	if !sorted {
		// The model's relationships are in another order than the
		// snapshot's.
		slices.SortFunc(out, func(a, b relState) int { return int(a.tag - b.tag) })
		for i := 1; i < len(out); i++ {
			if out[i].tag == out[i-1].tag {
				d.fail("relationship %q appears twice", m.t.rels[out[i].tag-1].name)
				return nil
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (d *dumpReader) key() Key {
	n := d.uvarint()
	var typ string
	switch {
	case n == 0:
		return Key{}
	case n <= uint64(len(d.types)):
		typ = d.types[n-1]
	case n == uint64(len(d.types))+1:
		typ = d.str()
		d.types = append(d.types, typ)
	default:
		d.fail("key type %d of %d", n, len(d.types))
		return Key{}
	}
	k := Key{typ, d.str()}
	if k.IsZero() && d.err == nil {
		d.fail("an empty key")
	}
	return k
}

// state reads a record's local state.
func (d *dumpReader) state(m *dumpModelIn, id string, v *version) *recState {
	t := m.t
	flags := d.uvarint()
	if flags&^dumpStAll != 0 || flags&dumpStRemoteZero != 0 && flags&dumpStRemoteValues != 0 {
		d.fail("unknown state flags %#x", flags)
		return nil
	}
	st := &recState{isNew: flags&dumpStNew != 0, deleted: flags&dumpStDeleted != 0, gone: flags&dumpStGone != 0}
	switch {
	case flags&dumpStRemoteZero != 0:
		st.remote = t.zero
	case flags&dumpStRemoteValues != 0:
		st.remote = t.newValue()
		d.values(m, id, st.remote)
	}
	if v.val != nil && st.remote == nil && d.err == nil {
		d.fail("the state of a loaded record has no backend values")
		return nil
	}
	n := d.count()
	for i := 0; i < n && d.err == nil; i++ {
		di := d.uvarint()
		if di >= uint64(len(m.attrs)) {
			d.fail("attribute %d of %d", di, len(m.attrs))
			return nil
		}
		if m.attrs[di].a != nil && v.val != nil {
			st.local.add(m.attrs[di].i)
		}
	}
	st.canon = d.rels(m)
	if n := d.count(); n > 0 {
		st.errs = make(map[string][]string, n)
		for i := 0; i < n && d.err == nil; i++ {
			k := d.str()
			msgs := make([]string, d.count())
			for j := 0; j < len(msgs) && d.err == nil; j++ {
				msgs[j] = d.str()
			}
			st.errs[k] = msgs
		}
	}
	if flags&dumpStErr != 0 {
		st.err = errors.New(d.str())
	}
	return st
}

// more reads a record's links and meta.
func (d *dumpReader) more(m *dumpModelIn) *more {
	mo := &more{linksMeta: linksMeta{links: d.object(), meta: d.object()}}
	n := d.count()
	for i := 0; i < n && d.err == nil; i++ {
		di := d.uvarint()
		if di >= uint64(len(m.rels)) {
			d.fail("relationship %d of %d", di, len(m.rels))
			return nil
		}
		lm := linksMeta{links: d.object(), meta: d.object()}
		if ri := m.rels[di].ri; ri >= 0 && lm != (linksMeta{}) {
			mo.rels = append(mo.rels, relMore{linksMeta: lm, ri: int32(ri)})
		}
	}
	if mo.linksMeta == (linksMeta{}) && len(mo.rels) == 0 {
		return nil
	}
	return mo
}

// object reads a links or meta object's JSON text: "" or an object.
func (d *dumpReader) object() string {
	b := d.bytes()
	if len(b) == 0 || d.err != nil {
		return ""
	}
	if b[0] != '{' || !json.Valid(b) {
		d.pos -= len(b)
		d.fail("links or meta that are not a JSON object")
		return ""
	}
	return string(b)
}

// install puts the records read into s, which must still be empty, in
// one commit.
func (s *Store) install(ctx context.Context, d *dumpReader) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("recstore: restore: %w", err)
	}
	if err := s.checkEmpty(); err != nil {
		return err
	}
	c := d.c
	defer c.abort() // takes back every entry and lid below on an error
	for i, dr := range c.drafts {
		if dr.t.byID.get(dr.e.id) != nil {
			return &SnapshotError{Offset: d.offs[i], Err: fmt.Errorf("%s %q appears twice", dr.t.name, dr.e.id)}
		}
		dr.t.byID.put(dr.e)
	}
	// Local identifiers once every entry is in, so that one that is
	// another record's id is found.
	for _, l := range d.lids {
		t := l.t
		t.setLID(l.e, l.lid)
		c.tagged = append(c.tagged, tableEntry{t, l.e})
		if l.lid == l.e.id {
			continue
		}
		if t.byID.get(l.lid) != nil || t.aliased(l.lid) != nil {
			return &SnapshotError{Offset: l.off, Err: fmt.Errorf("%s local identifier %q names two records", t.name, l.lid)}
		}
		// The entry the record had before its save gave it an id:
		// nothing holds it after a restart, but the alias keeps one.
		from := &entry{id: l.lid}
		t.setLID(from, l.lid)
		c.tagged = append(c.tagged, tableEntry{t, from})
		t.lids.Store(l.lid, &lidAlias{to: l.e, from: from})
		c.aliases = append(c.aliases, tableLID{t, l.lid})
	}
	// Nothing fails from here on: what is kept beside the entries can go
	// in.
	for _, x := range d.dls {
		x.t.deadlines.Store(x.e, x.dl)
		x.t.hasDeadlines.Store(true)
	}
	c.publish()
	// Local identifiers go on where the dumped Store's left off, as they
	// would have there.
	if s.lidSeq.Load() < d.lidSeq {
		s.lidSeq.Store(d.lidSeq)
	}
	return nil
}
