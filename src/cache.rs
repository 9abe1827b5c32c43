//! A bounded least-recently-used map, for cross-encoder scores.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// Least-recently-used map with at most `capacity` entries (0 disables it).
#[derive(Debug, Clone)]
pub struct LruCache<K, V> {
    capacity: usize,
    tick: u64,
    map: HashMap<K, (V, u64)>,
    order: BTreeMap<u64, K>,
    hits: u64,
    misses: u64,
}

impl<K: Hash + Eq + Clone, V: Clone> LruCache<K, V> {
    /// An empty cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self { capacity, tick: 0, map: HashMap::new(), order: BTreeMap::new(), hits: 0, misses: 0 }
    }

    /// Look up `key`, marking it as recently used.
    pub fn get(&mut self, key: &K) -> Option<V> {
        self.tick += 1;
        let tick = self.tick;
        match self.map.get_mut(key) {
            Some((v, t)) => {
                self.order.remove(t);
                *t = tick;
                self.order.insert(tick, key.clone());
                self.hits += 1;
                Some(v.clone())
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// Insert or refresh `key`, evicting the least recently used entry when full.
    pub fn put(&mut self, key: K, value: V) {
        if self.capacity == 0 {
            return;
        }
        self.tick += 1;
        if let Some((_, old)) = self.map.insert(key.clone(), (value, self.tick)) {
            self.order.remove(&old);
        }
        self.order.insert(self.tick, key);
        while self.map.len() > self.capacity {
            match self.order.pop_first() {
                Some((_, k)) => {
                    self.map.remove(&k);
                }
                None => break,
            }
        }
    }

    /// Change the capacity, evicting the oldest entries if needed.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
        while self.map.len() > capacity {
            match self.order.pop_first() {
                Some((_, k)) => {
                    self.map.remove(&k);
                }
                None => break,
            }
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Maximum entries.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// (hits, misses) since creation.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }

    /// Drop every entry.
    pub fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_used() {
        let mut c = LruCache::new(2);
        c.put("a", 1);
        c.put("b", 2);
        assert_eq!(c.get(&"a"), Some(1)); // a is now newer than b
        c.put("c", 3);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&"b"), None);
        assert_eq!(c.get(&"a"), Some(1));
        assert_eq!(c.get(&"c"), Some(3));
        assert_eq!(c.stats(), (3, 1));
    }

    #[test]
    fn refresh_does_not_grow_and_zero_capacity_disables() {
        let mut c = LruCache::new(2);
        c.put(1, 1);
        c.put(1, 10);
        assert_eq!(c.len(), 1);
        assert_eq!(c.get(&1), Some(10));
        let mut off = LruCache::new(0);
        off.put(1, 1);
        assert!(off.is_empty());
        c.put(2, 2);
        c.set_capacity(1);
        assert_eq!(c.len(), 1);
        assert_eq!(c.get(&2), Some(2));
    }
}
