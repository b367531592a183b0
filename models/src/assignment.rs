//! Assigning newly sales-ready leads to sellers: ordered rules, first match wins, each
//! rule spreading its leads over a pool of sellers by round robin or load balancing,
//! never beyond a seller's capacity (maximum open items).
//!
//! Deterministic: leads are taken in the order given (the caller sorts them, best
//! first), pools in seller-id order, ties broken by the lowest seller id.

use std::collections::BTreeMap;

use crate::policy::Distribution;

/// A seller's capacity and current load.
#[derive(Debug, Clone, PartialEq)]
pub struct SellerLoad {
    /// Seller id.
    pub seller_id: i64,
    /// Maximum open items.
    pub capacity: i64,
    /// Open items already held (open leads owned and open activities).
    pub open_items: i64,
}

/// A rule as the assigner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    /// Rule name.
    pub rule: String,
    /// Distribution.
    pub distribution: Distribution,
    /// Eligible sellers per lead key (the lead's values of the rule's `match`
    /// columns); with no `match` columns, one entry under the empty key.
    pub sellers: BTreeMap<Vec<String>, Vec<i64>>,
}

/// A lead to assign.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Lead id.
    pub lead_id: i64,
    /// Index of the first rule whose condition the lead meets, if any.
    pub rule: Option<usize>,
    /// The lead's values of that rule's `match` columns.
    pub key: Vec<String>,
}

/// The outcome for one lead.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// Lead id.
    pub lead_id: i64,
    /// The rule that matched, if any.
    pub rule: Option<String>,
    /// The seller, when one had capacity.
    pub seller_id: Option<i64>,
    /// Why no seller was assigned.
    pub unassigned_reason: Option<String>,
}

/// Assigns `candidates` in order. `sellers` gives every seller's capacity and load;
/// loads grow as leads are assigned.
pub fn assign(candidates: &[Candidate], pools: &[Pool], sellers: &[SellerLoad]) -> Vec<Assignment> {
    let mut load: BTreeMap<i64, (i64, i64)> = sellers
        .iter()
        .map(|s| (s.seller_id, (s.capacity, s.open_items)))
        .collect();
    // Round-robin position per (rule, key): the seller id served last.
    let mut last: BTreeMap<(usize, Vec<String>), i64> = BTreeMap::new();
    let mut out = Vec::with_capacity(candidates.len());
    for c in candidates {
        let Some(r) = c.rule.filter(|&r| r < pools.len()) else {
            out.push(Assignment {
                lead_id: c.lead_id,
                rule: None,
                seller_id: None,
                unassigned_reason: Some("no assignment rule matches".into()),
            });
            continue;
        };
        let pool = &pools[r];
        let members: &[i64] = pool.sellers.get(&c.key).map_or(&[], |v| v.as_slice());
        let free = |id: &i64, load: &BTreeMap<i64, (i64, i64)>| {
            load.get(id).is_some_and(|(cap, open)| open < cap)
        };
        let chosen = match pool.distribution {
            Distribution::RoundRobin => {
                let after = last.get(&(r, c.key.clone())).copied();
                // Sellers after the last one served, then from the start.
                let start = after.map_or(0, |a| members.partition_point(|&m| m <= a));
                members[start..]
                    .iter()
                    .chain(&members[..start])
                    .find(|m| free(m, &load))
                    .copied()
            }
            Distribution::LoadBalance => members
                .iter()
                .filter(|m| free(m, &load))
                .min_by_key(|m| (load.get(m).map_or(0, |l| l.1), **m))
                .copied(),
        };
        match chosen {
            Some(id) => {
                if let Some(l) = load.get_mut(&id) {
                    l.1 += 1;
                }
                last.insert((r, c.key.clone()), id);
                out.push(Assignment {
                    lead_id: c.lead_id,
                    rule: Some(pool.rule.clone()),
                    seller_id: Some(id),
                    unassigned_reason: None,
                });
            }
            None => out.push(Assignment {
                lead_id: c.lead_id,
                rule: Some(pool.rule.clone()),
                seller_id: None,
                unassigned_reason: Some(if members.is_empty() {
                    format!("rule '{}' has no eligible seller for this lead", pool.rule)
                } else {
                    format!(
                        "every seller of rule '{}' is at capacity ({} sellers)",
                        pool.rule,
                        members.len()
                    )
                }),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(rule: &str, distribution: Distribution, members: &[i64]) -> Pool {
        Pool {
            rule: rule.into(),
            distribution,
            sellers: BTreeMap::from([(Vec::new(), members.to_vec())]),
        }
    }

    fn leads(ids: &[i64], rule: usize) -> Vec<Candidate> {
        ids.iter()
            .map(|&lead_id| Candidate {
                lead_id,
                rule: Some(rule),
                key: Vec::new(),
            })
            .collect()
    }

    fn seller(seller_id: i64, capacity: i64, open_items: i64) -> SellerLoad {
        SellerLoad {
            seller_id,
            capacity,
            open_items,
        }
    }

    fn sellers_of(a: &[Assignment]) -> Vec<Option<i64>> {
        a.iter().map(|x| x.seller_id).collect()
    }

    #[test]
    fn round_robin_takes_turns_and_skips_full_sellers() {
        // Seller 2 has room for one more item, 1 and 3 for plenty.
        let sellers = [seller(1, 10, 0), seller(2, 3, 2), seller(3, 10, 0)];
        let pools = [pool("all", Distribution::RoundRobin, &[1, 2, 3])];
        let got = assign(&leads(&[100, 101, 102, 103, 104, 105], 0), &pools, &sellers);
        // 1, 2, 3, then 2 is full: 1, 3, 1.
        assert_eq!(
            sellers_of(&got),
            [Some(1), Some(2), Some(3), Some(1), Some(3), Some(1)]
        );
    }

    #[test]
    fn load_balancing_fills_the_least_loaded_first() {
        let sellers = [seller(1, 5, 3), seller(2, 5, 0), seller(3, 5, 1)];
        let pools = [pool("all", Distribution::LoadBalance, &[1, 2, 3])];
        let got = assign(&leads(&[1, 2, 3, 4, 5, 6, 7], 0), &pools, &sellers);
        // Loads (seller 1, 2, 3) start at (3, 0, 1); each lead goes to the least
        // loaded, ties to the lower id: 2 → (3,1,1); 2 → (3,2,1); 3 → (3,2,2);
        // 2 → (3,3,2); 3 → (3,3,3); 1 → (4,3,3); 2 → (4,4,3).
        assert_eq!(
            sellers_of(&got),
            [
                Some(2),
                Some(2),
                Some(3),
                Some(2),
                Some(3),
                Some(1),
                Some(2)
            ]
        );
    }

    #[test]
    fn capacity_is_never_exceeded_and_the_rest_stay_unassigned() {
        let sellers = [seller(1, 2, 1), seller(2, 1, 0)];
        let pools = [pool("small", Distribution::RoundRobin, &[1, 2])];
        let got = assign(&leads(&[1, 2, 3, 4], 0), &pools, &sellers);
        assert_eq!(sellers_of(&got), [Some(1), Some(2), None, None]);
        assert_eq!(
            got[2].unassigned_reason.as_deref(),
            Some("every seller of rule 'small' is at capacity (2 sellers)")
        );
    }

    #[test]
    fn the_first_matching_rule_and_the_lead_key_choose_the_pool() {
        let sellers = [seller(1, 9, 0), seller(2, 9, 0), seller(3, 9, 0)];
        let by_territory = Pool {
            rule: "territory".into(),
            distribution: Distribution::RoundRobin,
            sellers: BTreeMap::from([
                (vec!["emea".to_string()], vec![1, 2]),
                (vec!["apac".to_string()], vec![3]),
            ]),
        };
        let candidates = [
            Candidate {
                lead_id: 1,
                rule: Some(0),
                key: vec!["emea".into()],
            },
            Candidate {
                lead_id: 2,
                rule: Some(0),
                key: vec!["apac".into()],
            },
            Candidate {
                lead_id: 3,
                rule: Some(0),
                key: vec!["emea".into()],
            },
            Candidate {
                lead_id: 4,
                rule: Some(0),
                key: vec!["latin_america".into()],
            },
            Candidate {
                lead_id: 5,
                rule: None,
                key: Vec::new(),
            },
        ];
        let got = assign(&candidates, &[by_territory], &sellers);
        assert_eq!(sellers_of(&got), [Some(1), Some(3), Some(2), None, None]);
        assert_eq!(
            got[3].unassigned_reason.as_deref(),
            Some("rule 'territory' has no eligible seller for this lead")
        );
        assert_eq!(
            got[4].unassigned_reason.as_deref(),
            Some("no assignment rule matches")
        );
    }
}
