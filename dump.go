package recstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
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
