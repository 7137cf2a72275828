package recstore

// RelWaiters counts the LoadRelated calls waiting on the link load of
// relationship name of k, or is -1 when none is under way.
func RelWaiters(s *Store, k Key, name string) int {
	s.flightMu.Lock()
	defer s.flightMu.Unlock()
	if f := s.relFlights[relKey{k, name}]; f != nil {
		return f.waiters
	}
	return -1
}
