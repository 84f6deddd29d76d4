//! An order-preserving parallel map over contiguous chunks (std threads, no pool): the directory
//! loader's per-line work is independent, and a million-user file is worth both cores.

/// Maps `items` with `f` on up to `available_parallelism` threads; the output keeps the input's
/// order. Small inputs stay on the calling thread.
pub fn map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    map_weighted(items, |_| 1, 4096, f)
}

/// [`map`] for items of unequal cost: contiguous chunks of about equal total `weight`, a thread
/// only for at least `min_per_thread` of it (a thousand group lines can outweigh a million user
/// lines).
pub fn map_weighted<T: Send, R: Send>(
    items: Vec<T>,
    weight: impl Fn(&T) -> usize,
    min_per_thread: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let total: usize = items.iter().map(&weight).sum();
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(total / min_per_thread.max(1))
        .max(1);
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let per = total.div_ceil(threads);
    let mut chunks: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut chunk = Vec::new();
    let mut filled = 0;
    for item in items {
        filled += weight(&item);
        chunk.push(item);
        if filled >= per && chunks.len() + 1 < threads {
            chunks.push(std::mem::take(&mut chunk));
            filled = 0;
        }
    }
    chunks.push(chunk);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::new();
        for handle in handles {
            match handle.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order_for_small_and_large_inputs() {
        for n in [0, 1, 10, 50_000] {
            let items: Vec<usize> = (0..n).collect();
            let out = super::map(items, |x| x * 2);
            assert_eq!(out, (0..n).map(|x| x * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn weighted_chunks_keep_order_and_split_by_weight() {
        // One heavy item among light ones: weight, not count, decides the threads.
        let items: Vec<usize> = (0..100).collect();
        let weight = |x: &usize| if *x == 0 { 1_000_000 } else { 1 };
        let out = super::map_weighted(items, weight, 1000, |x| (x, std::thread::current().id()));
        assert_eq!(
            out.iter().map(|(x, _)| *x).collect::<Vec<_>>(),
            (0..100).collect::<Vec<_>>()
        );
        let threads: std::collections::HashSet<_> = out.iter().map(|(_, t)| *t).collect();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        assert_eq!(
            threads.len(),
            cores.min(2),
            "the heavy item alone in its chunk"
        );
        let light = super::map_weighted(vec![1, 2, 3], |_| 1, 1000, |x| x + 1);
        assert_eq!(light, [2, 3, 4]);
    }
}
