//! [`SelectList`]: the items of a list and the selected one, kept together so that every list
//! of the workbench moves, pages and clamps its cursor the same way.

use std::ops::Deref;

/// Rows a page (PgUp / PgDn) moves.
pub const PAGE: i64 = 10;

/// Items and a cursor. The cursor stays on an item while there are items: moving clamps it
/// to the first and last, and new items ([`SelectList::set_items`]) clamp it. Emptying the
/// list ([`SelectList::clear`]) keeps the cursor for the items that come next.
///
/// It reads as a slice (`len`, `iter`, `[i]`); changes go through its methods.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectList<T> {
    items: Vec<T>,
    index: usize,
}

impl<T> Default for SelectList<T> {
    fn default() -> Self {
        SelectList {
            items: Vec::new(),
            index: 0,
        }
    }
}

impl<T> From<Vec<T>> for SelectList<T> {
    /// The items, the first selected.
    fn from(items: Vec<T>) -> Self {
        SelectList { items, index: 0 }
    }
}

impl<T> Deref for SelectList<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for SelectList<T> {
    /// The same items (the cursor aside).
    fn eq(&self, other: &Vec<T>) -> bool {
        self.items == *other
    }
}

impl<T> SelectList<T> {
    /// The cursor: the selected row (0 for an empty list, unless it was emptied by `clear`).
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn selected(&self) -> Option<&T> {
        self.items.get(self.index)
    }

    pub fn items(&self) -> &[T] {
        &self.items
    }

    /// Move the cursor `delta` rows (negative: up), clamped to the items; true if it moved.
    /// `i64::MIN / 4` and `i64::MAX / 4` go to the first and the last row.
    pub fn move_by(&mut self, delta: i64) -> bool {
        let before = self.index;
        self.index = if self.items.is_empty() {
            0
        } else {
            let last = self.items.len() as i64 - 1;
            (self.index as i64).saturating_add(delta).clamp(0, last) as usize
        };
        self.index != before
    }

    /// Select row `i` (clamped to the items).
    pub fn select(&mut self, i: usize) {
        self.index = i.min(self.items.len().saturating_sub(1));
    }

    /// Select the last row (the first of an empty list).
    pub fn select_last(&mut self) {
        self.index = self.items.len().saturating_sub(1);
    }

    /// Select the first item `pred` accepts; false (and no move) if there is none.
    pub fn select_where(&mut self, pred: impl Fn(&T) -> bool) -> bool {
        match self.items.iter().position(pred) {
            Some(i) => {
                self.index = i;
                true
            }
            None => false,
        }
    }

    /// New items; the cursor stays where it was, clamped to them.
    pub fn set_items(&mut self, items: Vec<T>) {
        self.items = items;
        self.move_by(0);
    }

    /// New items, the first selected.
    pub fn reset(&mut self, items: Vec<T>) {
        self.items = items;
        self.index = 0;
    }

    /// New items; the cursor stays as it is even past their end (nothing is selected until
    /// enough items come): a list rebuilt as data arrive keeps its place.
    pub fn replace_items(&mut self, items: Vec<T>) {
        self.items = items;
    }

    /// No items; the cursor is kept for the next ones (and clamped to them).
    pub fn clear(&mut self) {
        self.items.clear();
    }

    pub fn push(&mut self, item: T) {
        self.items.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_clamp_and_pages() {
        let mut l = SelectList::from(vec![10, 20, 30]);
        assert_eq!(l.selected(), Some(&10));
        assert!(!l.move_by(-1), "already at the top");
        assert!(l.move_by(PAGE));
        assert_eq!((l.index(), l.selected()), (2, Some(&30)));
        l.move_by(i64::MIN / 4);
        assert_eq!(l.index(), 0);
        l.move_by(i64::MAX / 4);
        assert_eq!(l.index(), 2);
        assert!(l.select_where(|x| *x == 20));
        assert_eq!(l.index(), 1);
        assert!(!l.select_where(|x| *x == 99));
        assert_eq!(l.index(), 1);
    }

    #[test]
    fn new_items_clamp_the_cursor_and_clear_keeps_it() {
        let mut l = SelectList::from(vec![1, 2, 3, 4]);
        l.select(3);
        l.set_items(vec![1, 2]);
        assert_eq!(l.index(), 1);
        l.clear();
        assert!(l.is_empty() && l.selected().is_none());
        assert_eq!(l.index(), 1, "kept for the next items");
        l.set_items(vec![5, 6, 7]);
        assert_eq!(l.selected(), Some(&6));
        l.set_items(vec![]);
        assert_eq!(l.index(), 0);
        l.move_by(3);
        assert_eq!(l.index(), 0, "an empty list selects its first row");
        l.reset(vec![8, 9]);
        l.select_last();
        assert_eq!(l.selected(), Some(&9));
        l.replace_items(vec![]);
        l.replace_items(vec![1, 2, 3]);
        assert_eq!(l.index(), 1, "replace keeps the cursor");
        assert_eq!(l, vec![1, 2, 3]);
        assert_eq!(l.len(), 3);
    }
}
