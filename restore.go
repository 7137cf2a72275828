package recstore

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// This file reads what dump.go writes: see there for the format.

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
	d := &dumpReader{s: s, br: bufio.NewReaderSize(r, 64<<10), c: newCommit(s, CauseRestore)}
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
