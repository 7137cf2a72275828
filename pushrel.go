package recstore

import "errors"

// The parser's reading of a resource's relationships: linkage, links and
// meta, and the resource identifiers in them.

// relationships reads the relationships object of the resource st.
func (p *parser) relationships(st *staged) error {
	s := &p.sc
	t := st.t
	p.in("relationships")
	if c := s.next(); c != '{' {
		return p.wrong("relationships must be an object, not %s", kindName(c))
	}
	if err := s.openObject(); err != nil {
		return p.fail(err)
	}
	var seen bitset // the relationships read so far
	for first := true; ; first = false {
		key, err := p.key(first)
		if err != nil {
			return err
		}
		if key == nil {
			p.out()
			return nil
		}
		ri, ok := t.relIdx[string(key)]
		if !ok {
			if err := p.skipOther(key); err != nil {
				return err
			}
			if p.members {
				p.unknownMember(t, key)
			}
			continue
		}
		if seen.has(ri) {
			return p.repeated(key)
		}
		seen.add(ri)
		r := &t.rels[ri]
		p.in(r.name)
		if c := s.next(); c != '{' {
			return p.wrong("a relationship must be an object, not %s", kindName(c))
		}
		if err := s.openObject(); err != nil {
			return p.fail(err)
		}
		haveData := false
		var lm linksMeta // the relationship's links and meta
		haveLinks, haveMeta := false, false
		for first := true; ; first = false {
			key, err := p.key(first)
			if err != nil {
				return err
			}
			if key == nil {
				break
			}
			if string(key) != "data" {
				if err := p.relMember(key, &lm, &haveLinks, &haveMeta); err != nil {
					return err
				}
				continue
			}
			if haveData {
				return p.repeated(key)
			}
			haveData = true
			p.in("data")
			sr, err := p.linkage(r)
			if err != nil {
				return err
			}
			p.out()
			sr.ri = ri
			p.rels.add(sr)
		}
		p.addRelMore(st, ri, lm)
		p.out()
	}
}

// relMember reads a member of a relationship object other than data:
// links and meta into lm, the others skipped.
func (p *parser) relMember(key []byte, lm *linksMeta, haveLinks, haveMeta *bool) error {
	have, dst := haveLinks, &lm.links
	switch string(key) {
	case "links":
	case "meta":
		have, dst = haveMeta, &lm.meta
	default:
		return p.skipOther(key)
	}
	if *have {
		return p.repeated(key)
	}
	*have = true
	var err error
	*dst, err = p.linksObject(string(key))
	return err
}

// linkage reads a relationship's data member.
func (p *parser) linkage(r *relField) (stagedRel, error) {
	s := &p.sc
	c := s.next()
	switch {
	case c == 'n' && !r.many:
		if err := s.literal("null"); err != nil {
			return stagedRel{}, p.fail(err)
		}
		return stagedRel{}, nil
	case c == '{' && !r.many:
		k, err := p.identifier(r)
		return stagedRel{one: k}, err
	case c == '[' && r.many:
		if err := s.openArray(); err != nil {
			return stagedRel{}, p.fail(err)
		}
		keys := []Key{}
		for i := 0; ; i++ {
			more, err := s.element(i == 0)
			if err != nil {
				return stagedRel{}, p.fail(err)
			}
			if !more {
				return stagedRel{many: keys}, nil
			}
			p.at(i)
			k, err := p.identifier(r)
			if err != nil {
				return stagedRel{}, err
			}
			p.out()
			keys = append(keys, k)
		}
	case r.many:
		return stagedRel{}, p.wrong("to-many relationship %q needs an array of identifiers, not %s", r.name, kindName(c))
	default:
		return stagedRel{}, p.wrong("to-one relationship %q needs an identifier object or null, not %s", r.name, kindName(c))
	}
}

// identifier reads one resource identifier object {"type", "id"}.
func (p *parser) identifier(r *relField) (Key, error) {
	s := &p.sc
	if err := p.countLink(); err != nil {
		return Key{}, err
	}
	if c := s.next(); c != '{' {
		return Key{}, p.wrong("a resource identifier must be an object, not %s", kindName(c))
	}
	if err := s.openObject(); err != nil {
		return Key{}, p.fail(err)
	}
	var t *table
	var idRaw, lidRaw []byte
	idEsc, haveID := false, false
	lidEsc, haveLID := false, false
	for first := true; ; first = false {
		key, err := p.key(first)
		if err != nil {
			return Key{}, err
		}
		if key == nil {
			break
		}
		switch string(key) {
		case "type":
			if t != nil {
				return Key{}, p.repeated(key)
			}
			p.in("type")
			if t, err = p.typeMember(); err != nil {
				return Key{}, err
			}
			if !r.keyed && r.elem != t.goType && !r.polyHolds(t) {
				return Key{}, p.fail(r.wrongType(t))
			}
			p.out()
		case "id":
			if haveID {
				return Key{}, p.repeated(key)
			}
			p.in("id")
			if idRaw, idEsc, err = p.idMember(); err != nil {
				return Key{}, err
			}
			p.out()
			haveID = true
		case "lid":
			if haveLID {
				return Key{}, p.repeated(key)
			}
			p.in("lid")
			if lidRaw, lidEsc, err = p.idMember(); err != nil {
				return Key{}, err
			}
			p.out()
			haveLID = true
		default:
			if err := p.skipOther(key); err != nil {
				return Key{}, err
			}
		}
	}
	if t == nil {
		p.in("type")
		return Key{}, p.fail(errors.New(`the resource identifier has no "type" member`))
	}
	if !haveID && haveLID {
		p.in("lid")
		lid, err := p.idString(lidRaw, lidEsc, false)
		if err != nil {
			return Key{}, err
		}
		k, err := p.identifierByLID(t, lid)
		if err != nil {
			return Key{}, err
		}
		p.out()
		return k, nil
	}
	if !haveID {
		p.in("id")
		return Key{}, p.fail(errors.New(`the resource identifier has no "id" member`))
	}
	p.in("id")
	id, err := p.idString(idRaw, idEsc, true)
	if err != nil {
		return Key{}, err
	}
	p.out()
	return Key{t.name, id}, nil
}

// countLink counts one resource identifier against MaxLinkages.
func (p *parser) countLink() error {
	p.links++
	if p.links > p.opts.MaxLinkages {
		return p.fail(&LimitError{Limit: "MaxLinkages", Max: p.opts.MaxLinkages})
	}
	return nil
}
