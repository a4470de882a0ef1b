package store

import (
	"sync"

	bolt "go.etcd.io/bbolt"
)

// userCache keeps the users that lookups found, so that the mail path (a
// lookup per RCPT, per login) reads a map instead of opening a bbolt read
// transaction and decoding a JSON record each time. Only this process
// writes the mailbase (bbolt's file lock), and every change of a user goes
// through putUser, which empties the cache when its transaction commits.
//
// A lookup that raced with a commit could hold the record from before it;
// gen tells: a result is kept only if no commit emptied the cache between
// the moment the lookup began and the moment it stores its answer. Names
// that were not found are not kept, so the cache never holds more than the
// user base.
type userCache struct {
	mu      sync.RWMutex
	gen     uint64
	byNum   map[uint32]User
	byAlias map[string]uint32 // AliasKey -> number
}

func (c *userCache) number(num uint32) (User, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	u, ok := c.byNum[num]
	return u, ok
}

func (c *userCache) alias(key string) (User, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.byAlias[key]
	if !ok {
		return User{}, false
	}
	u, ok := c.byNum[n]
	return u, ok
}

// generation is read before a lookup's transaction begins.
func (c *userCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// keep stores u (and its alias key, when found by alias) unless a commit
// came since gen.
func (c *userCache) keep(gen uint64, u User, aliasKey string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.byNum == nil {
		c.byNum = map[uint32]User{}
		c.byAlias = map[string]uint32{}
	}
	c.byNum[u.Number] = u
	if aliasKey != "" {
		c.byAlias[aliasKey] = u.Number
	}
}

func (c *userCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.byNum, c.byAlias = nil, nil
}

// forgetOnCommit empties the cache once tx commits. It is also emptied
// right away, so that a lookup running between now and the commit cannot
// keep what it read before.
func (c *userCache) forgetOnCommit(tx *bolt.Tx) {
	c.clear()
	tx.OnCommit(c.clear)
}
