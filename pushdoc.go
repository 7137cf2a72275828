package recstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"unsafe"
)

// This file pushes a *Document without turning it into JSON text first:
// serializers hand the Store Documents, and a round trip through
// encoding/json would cost more than the rest of the push. Every attribute
// value still goes through the same decoders as a JSON push, as JSON text
// (a json.RawMessage as it is, other values rendered into a scratch
// buffer), so both paths accept and reject exactly the same values.

var nullJSON = []byte("null")

// fromDocument stages d's resources as document stages parsed ones.
func (p *parser) fromDocument(d *Document) error {
	p.raws = d.raws
	p.userDoc = d.norm == nil
	p.hasData = true
	p.data.reset()
	p.included.reset()
	if n := len(d.Data) + len(d.Included); n > p.opts.MaxResources {
		return p.fail(&LimitError{Limit: "MaxResources", Max: p.opts.MaxResources})
	}
	if !d.Many && len(d.Data) > 1 {
		p.in("data")
		return p.fail(fmt.Errorf("data holds %d resources but Many is false", len(d.Data)))
	}
	p.in("included")
	for i, r := range d.Included {
		p.at(i)
		st, err := p.resourceValue(r, true, i)
		if err != nil {
			return err
		}
		p.out()
		p.included.add(st)
	}
	p.out()
	p.in("data")
	for i, r := range d.Data {
		idx := i
		if d.Many {
			p.at(i)
		} else {
			idx = -1
		}
		st, err := p.resourceValue(r, false, idx)
		if err != nil {
			return err
		}
		if d.Many {
			p.out()
		}
		p.data.add(st)
	}
	p.out()
	return nil
}

func (p *parser) resourceValue(r *Resource, incl bool, idx int) (staged, error) {
	st := staged{inIncl: incl, idx: int32(idx)}
	if r == nil {
		return st, p.fail(errors.New("a resource must not be nil"))
	}
	if r.Type == "" {
		p.in("type")
		return st, p.fail(errors.New("the resource has no type"))
	}
	if r.ID == "" && r.LID == "" {
		p.in("id")
		return st, p.fail(errors.New("the resource has no id"))
	}
	p.in("type")
	t := p.tables[r.Type]
	if t == nil {
		return st, p.fail(unknownType(r.Type, p.tables))
	}
	if p.only != nil && !incl && t != p.only {
		return st, p.fail(fmt.Errorf("want type %q, got %q", p.only.name, t.name))
	}
	p.out()
	st.t, st.v = t, t.newVersion()
	if r.ID == "" {
		p.in("lid")
		if err := p.byLID(&st, r.LID); err != nil {
			return st, err
		}
		p.out()
	} else {
		p.in("id")
		if err := p.checkID(r.ID); err != nil {
			return st, err
		}
		if err := p.notLID(t, r.ID); err != nil {
			return st, err
		}
		p.out()
		if err := p.setIDString(&st, r.ID); err != nil {
			return st, err
		}
		p.setLID(&st, r.LID)
	}

	if r.raw != nil {
		decode := func(ra rawAttr) error {
			a := &t.attrs[ra.i]
			if ra.kind == rawValue {
				return p.attrValue(&st, a, p.raws.values[ra.start])
			}
			return p.attrRaw(&st, a, p.raws.bytes(ra))
		}
		for _, ra := range r.raw {
			if err := decode(ra); err != nil {
				// The path is built only now, and the value decoded
				// again, so that the error points at it: the common case
				// pays for no path.
				p.in("attributes")
				p.in(t.attrs[ra.i].name)
				return st, decode(ra)
			}
			st.set.add(int(ra.i))
		}
	} else if r.Attributes != nil {
		p.in("attributes")
		found := 0
		for i := range t.attrs {
			a := &t.attrs[i]
			v, ok := r.Attributes[a.name]
			if !ok {
				continue
			}
			found++
			p.in(a.name)
			if err := p.attrValue(&st, a, v); err != nil {
				return st, err
			}
			p.out()
			st.set.add(i)
		}
		if p.members && len(r.Attributes) > found {
			unknownKeys(p, t, r.Attributes, t.attrIdx)
		}
		p.out()
	}

	if r.Links != nil || r.Meta != nil {
		lm, err := p.linksMetaValue(r.Links, r.Meta)
		if err != nil {
			return st, err
		}
		p.moreOf(&st).linksMeta = lm
	}
	if p.raws != nil && p.raws.more != nil {
		p.setMore(&st, p.raws.more[r])
	}
	relStart := p.rels.len()
	if r.Relationships != nil {
		p.in("relationships")
		if p.members && len(r.Relationships) > 0 {
			unknownKeys(p, t, r.Relationships, t.relIdx)
		}
		for ri := range t.rels {
			rf := &t.rels[ri]
			rel, ok := r.Relationships[rf.name]
			if !ok {
				continue
			}
			p.in(rf.name)
			if rel == nil {
				return st, p.fail(errors.New("a relationship must not be nil"))
			}
			if !rel.LinksOnly {
				p.in("data")
				sr, err := p.linkageValue(rf, rel)
				if err != nil {
					return st, err
				}
				sr.ri = ri
				p.rels.add(sr)
				p.out()
			}
			if rel.Links != nil || rel.Meta != nil {
				lm, err := p.linksMetaValue(rel.Links, rel.Meta)
				if err != nil {
					return st, err
				}
				p.addRelMore(&st, ri, lm)
			}
			p.out()
		}
		p.out()
	}
	st.relLo, st.relHi = int32(relStart), int32(p.rels.len())
	return st, nil
}

// checkID applies the rules idMember applies to ids in JSON text.
func (p *parser) checkID(id string) error {
	if id == "" {
		return p.fail(errors.New("id must not be empty"))
	}
	if len(id) > p.opts.MaxIDBytes {
		return p.fail(&LimitError{Limit: "MaxIDBytes", Max: p.opts.MaxIDBytes})
	}
	return nil
}

// setIDString is setID for an id that is already a string, which it keeps
// without copying: strings are immutable, so sharing one is safe.
func (p *parser) setIDString(st *staged, id string) error {
	if st.t.id.kind != reflect.String {
		return p.setID(st, unsafe.Slice(unsafe.StringData(id), len(id)), false)
	}
	st.id = id
	*(*string)(unsafe.Add(st.v.val, st.t.id.off)) = id
	return nil
}

// attrValue decodes one Go value into attribute a of st.
func (p *parser) attrValue(st *staged, a *attrField, v any) error {
	ptr := unsafe.Add(st.v.val, a.off)
	buf := p.scratch[:0]
	var raw []byte
	switch v := v.(type) {
	case json.RawMessage:
		raw = v
	case nil:
		raw = nullJSON
	case string:
		if a.typ == stringType {
			*(*string)(ptr) = v
			return nil
		}
		raw = appendJSONString(buf, v)
	case bool:
		raw = strconv.AppendBool(buf, v)
	case json.Number:
		raw = append(buf, v...)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return p.fail(&AttributeError{Type: st.t.name, ID: st.id, Attr: a.name, Value: fmt.Sprint(v), GoType: a.typ,
				Err: errors.New("not a JSON number")})
		}
		raw = strconv.AppendFloat(buf, v, 'f', -1, 64)
	case int:
		raw = strconv.AppendInt(buf, int64(v), 10)
	case int64:
		raw = strconv.AppendInt(buf, v, 10)
	case uint64:
		raw = strconv.AppendUint(buf, v, 10)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return p.fail(&AttributeError{Type: st.t.name, ID: st.id, Attr: a.name, Value: fmt.Sprintf("%T", v), GoType: a.typ,
				Err: fmt.Errorf("encoding as JSON: %w", err)})
		}
		raw = b
	}
	// Keep what the appends to buf grew, but not big one-offs, and never
	// memory the caller or the package owns (RawMessage, nullJSON).
	switch v.(type) {
	case string, bool, json.Number, float64, int, int64, uint64:
		if cap(raw) > cap(p.scratch) && cap(raw) <= 4<<10 {
			p.scratch = raw[:0]
		}
	}
	return p.attrRaw(st, a, raw)
}

// attrRaw decodes the JSON text raw into attribute a of st.
func (p *parser) attrRaw(st *staged, a *attrField, raw []byte) error {
	ptr := unsafe.Add(st.v.val, a.off)
	saved := p.sc
	p.sc = saved.sub(raw)
	s := &p.sc
	if p.userDoc {
		// Count depth as if the value were in the document's JSON text
		// (inside attributes, inside the resource, inside an array for
		// many or included), so that MaxDepth means the same for both.
		// A serializer's Document was held to it as its payload was read.
		s.depth = 3
		if st.idx >= 0 {
			s.depth = 4
		}
	}
	s.next()
	err := a.decode(s, ptr)
	if err != nil {
		err = p.attrError(st, a, 0, err)
	} else if !s.atEnd() {
		err = p.fail(s.syntax("data after the attribute value"))
	}
	p.sc = saved
	return err
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // cannot fail for a string
	return append(dst, b...)
}

// linkageValue checks one relationship's data as linkage does.
func (p *parser) linkageValue(r *relField, rel *Relationship) (stagedRel, error) {
	if rel.Many != r.many {
		if r.many {
			return stagedRel{}, p.fail(fmt.Errorf("to-many relationship %q needs an array of identifiers", r.name))
		}
		return stagedRel{}, p.fail(fmt.Errorf("to-one relationship %q needs an identifier object or null", r.name))
	}
	if !r.many {
		switch len(rel.Data) {
		case 0:
			return stagedRel{}, nil
		case 1:
			if err := p.countLink(); err != nil {
				return stagedRel{}, err
			}
			k, err := p.identifierValue(r, rel.Data[0])
			return stagedRel{one: k}, err
		default:
			return stagedRel{}, p.fail(fmt.Errorf("to-one relationship %q holds %d identifiers", r.name, len(rel.Data)))
		}
	}
	keys := make([]Key, len(rel.Data))
	for i, k := range rel.Data {
		p.at(i)
		if err := p.countLink(); err != nil {
			return stagedRel{}, err
		}
		var err error
		if keys[i], err = p.identifierValue(r, k); err != nil {
			return stagedRel{}, err
		}
		p.out()
	}
	return stagedRel{many: keys}, nil
}

func (p *parser) identifierValue(r *relField, k Key) (Key, error) {
	if k.Type == "" {
		p.in("type")
		return Key{}, p.fail(errors.New("the resource identifier has no type"))
	}
	if k.ID == "" {
		p.in("id")
		return Key{}, p.fail(errors.New("the resource identifier has no id"))
	}
	p.in("type")
	t := p.tables[k.Type]
	if t == nil {
		return Key{}, p.fail(unknownType(k.Type, p.tables))
	}
	if !r.keyed && r.elem != t.goType && !r.polyHolds(t) {
		return Key{}, p.fail(r.wrongType(t))
	}
	p.out()
	p.in("id")
	if err := p.checkID(k.ID); err != nil {
		return Key{}, err
	}
	p.out()
	return Key{t.name, k.ID}, nil
}
