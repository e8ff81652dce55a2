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
            if self.items.len() == self.items.capacity() {
                self.grow();
            }
            self.items.push(value);
            (self.items.len() - 1) as u32
        }
    }

    /// Doubles the room for items. A large slab (thousands of accounts: tens of
    /// megabytes of sessions) is moved into new memory that the kernel is first asked to
    /// back with huge pages: its items are read in no order, and with pages of 4 KiB
    /// nearly every first touch of one would also miss the processor's page table cache
    /// (about 2,000 entries cover 8 MB), a second wait on memory. Small slabs grow as any
    /// vector does.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let cap = self.items.capacity().max(4);
        if (2 * cap).saturating_mul(std::mem::size_of::<T>()) < HUGE_FROM {
            self.items.reserve_exact(cap);
            return;
        }
        let mut items = Vec::with_capacity(2 * cap);
        advise_huge_pages(&items);
        items.append(&mut self.items);
        self.items = items;
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

/// The size from which a slab's memory is asked for in huge pages: two of them.
const HUGE_FROM: usize = 4 << 20;

/// Asks the kernel to back the room of `v` (not yet written) with huge pages of 2 MiB
/// where it can (Linux, when transparent huge pages are allowed on request); a hint only.
fn advise_huge_pages<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        /// `MADV_HUGEPAGE` of Linux's `<sys/mman.h>`.
        const MADV_HUGEPAGE: i32 = 14;
        extern "C" {
            fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
        }
        let start = v.as_ptr() as usize;
        let end = start + v.capacity() * std::mem::size_of::<T>();
        // The whole huge pages inside the room (the call needs aligned addresses).
        let (from, to) = (start.next_multiple_of(HUGE), end / HUGE * HUGE);
        if to > from {
            // SAFETY: the range lies inside the vector's allocation, which stays mapped;
            // the advice changes how the kernel backs the memory, never its contents, and
            // a refusal (an error return) is harmless.
            unsafe {
                madvise(from as *mut std::ffi::c_void, to - from, MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slab that grows past the size at which it moves into huge pages keeps every
    /// item at its index, and reuses freed slots.
    #[test]
    fn items_keep_their_index_across_growth() {
        let mut slab = Slab::new();
        let n = 2 * HUGE_FROM / std::mem::size_of::<[u64; 8]>();
        for i in 0..n as u64 {
            assert_eq!(slab.insert([i; 8]), i as u32);
        }
        assert!(slab.items.capacity() * 64 >= 2 * HUGE_FROM);
        for (i, item) in slab.items.iter().enumerate() {
            assert_eq!(*item, [i as u64; 8]);
        }
        slab.remove(7);
        assert_eq!(slab.insert([1; 8]), 7);
        assert_eq!(slab.items[7], [1; 8]);
        assert_eq!(slab.insert([2; 8]), n as u32);
    }
}
