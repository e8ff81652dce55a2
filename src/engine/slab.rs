//! A reusable arena for sessions and requests: the hot loop reuses freed slots instead of
//! allocating per request.

/// A reusable arena: indices stay valid until freed; freed slots are reused.
pub(crate) struct Slab<T> {
    pub(crate) items: Vec<T>,
    free: Vec<u32>,
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
        }
    }
    pub(crate) fn insert(&mut self, value: T) -> u32 {
        if let Some(i) = self.free.pop() {
            self.items[i as usize] = value;
            i
        } else {
            self.items.push(value);
            (self.items.len() - 1) as u32
        }
    }
    /// A freed slot to fill again, with its old value still in it: the caller overwrites it
    /// field by field, which is cheaper than moving a whole new value in. None when no slot
    /// is free (then [`Slab::insert`] a new value).
    #[inline]
    pub(crate) fn reuse(&mut self) -> Option<(u32, &mut T)> {
        let i = self.free.pop()?;
        Some((i, &mut self.items[i as usize]))
    }

    pub(crate) fn remove(&mut self, i: u32) {
        self.free.push(i);
    }
}
