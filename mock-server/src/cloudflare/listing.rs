//! Query filters and pagination of the list endpoints.

use serde_json::{json, Value};

/// Decoded query parameters in request order.
pub(crate) type Query = Vec<(String, String)>;

pub(crate) fn parse_query(raw: Option<&str>) -> Query {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn first<'a>(query: &'a Query, key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
}

/// One text condition on a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TextFilter {
    Equal(String),
    NotEqual(String),
    Contains(String),
    StartsWith(String),
    EndsWith(String),
}

impl TextFilter {
    pub(crate) fn matches(&self, value: &str, case_sensitive: bool) -> bool {
        let fold = |text: &str| {
            if case_sensitive {
                text.to_string()
            } else {
                text.to_ascii_lowercase()
            }
        };
        let value = fold(value);
        match self {
            TextFilter::Equal(wanted) => value == fold(wanted),
            TextFilter::NotEqual(wanted) => value != fold(wanted),
            TextFilter::Contains(wanted) => value.contains(&fold(wanted)),
            TextFilter::StartsWith(wanted) => value.starts_with(&fold(wanted)),
            TextFilter::EndsWith(wanted) => value.ends_with(&fold(wanted)),
        }
    }
}

/// Filters on `field` from the dotted parameters the Python SDK sends
/// (`name.exact=`, `name.contains=`, `name.startswith=`, `name.endswith=`)
/// and the plain `name=` form, which means exact match.
pub(crate) fn dotted_filters(query: &Query, field: &str) -> Vec<TextFilter> {
    let mut filters = Vec::new();
    for (key, value) in query {
        let Some(operator) = key.strip_prefix(field) else {
            continue;
        };
        let filter = match operator {
            "" | ".exact" => TextFilter::Equal(value.clone()),
            ".contains" => TextFilter::Contains(value.clone()),
            ".startswith" => TextFilter::StartsWith(value.clone()),
            ".endswith" => TextFilter::EndsWith(value.clone()),
            _ => continue,
        };
        filters.push(filter);
    }
    filters
}

/// Returns the zone list's `name` filters. Besides the dotted forms, the plain form
/// accepts an operator prefix such as `name=contains:example`, as the zones endpoint documents.
pub(crate) fn zone_name_filters(query: &Query) -> Vec<TextFilter> {
    dotted_filters(query, "name")
        .into_iter()
        .map(|filter| match filter {
            TextFilter::Equal(value) => operator_prefixed(&value),
            other => other,
        })
        .collect()
}

fn operator_prefixed(value: &str) -> TextFilter {
    let Some((operator, operand)) = value.split_once(':') else {
        return TextFilter::Equal(value.to_string());
    };
    let operand = operand.to_string();
    match operator {
        "equal" => TextFilter::Equal(operand),
        "not_equal" => TextFilter::NotEqual(operand),
        "contains" => TextFilter::Contains(operand),
        "starts_with" => TextFilter::StartsWith(operand),
        "ends_with" => TextFilter::EndsWith(operand),
        _ => TextFilter::Equal(value.to_string()),
    }
}

/// Returns the value of an exact-match parameter such as `status` or `account.id`.
pub(crate) fn exact(query: &Query, key: &str) -> Option<String> {
    first(query, key).map(str::to_string)
}

/// Requested page and page size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub(crate) page: u64,
    pub(crate) per_page: u64,
}

/// Reads `page` (default 1) and `per_page` (default `default_size`, clamped to `min..=max`).
///
/// NOTE: Cloudflare's spec gives the bounds (zones 5 to 50, records 5 to
/// 5,000,000) but not what an out-of-range value gets; the emulation clamps it.
/// Numbers such as `2.0` are accepted because the Python SDK types these as floats.
pub(crate) fn page_request(query: &Query, default_size: u64, min: u64, max: u64) -> PageRequest {
    let number = |key: &str| {
        first(query, key)
            .and_then(|text| text.parse::<f64>().ok())
            .map(|value| value.max(0.0) as u64)
    };
    let page = number("page").unwrap_or(1).max(1);
    let per_page = number("per_page").unwrap_or(default_size).clamp(min, max);
    PageRequest { page, per_page }
}

/// Cuts one page out of `items` and builds the matching `result_info`.
///
/// A page past the end is empty with status 200, which the Python SDK's
/// auto-pagination relies on to stop (`SyncV4PagePaginationArray` requests
/// `page + 1` until a page comes back empty).
pub(crate) fn paginate<T: Clone>(items: &[T], request: PageRequest) -> (Vec<T>, Value) {
    let total = items.len() as u64;
    let start = (request.page - 1).saturating_mul(request.per_page);
    let page_items: Vec<T> = items
        .iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(request.per_page).unwrap_or(usize::MAX))
        .cloned()
        .collect();
    let info = json!({
        "page": request.page,
        "per_page": request.per_page,
        "count": page_items.len(),
        "total_count": total,
        "total_pages": total.div_ceil(request.per_page),
    });
    (page_items, info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_and_plain_name_filters() {
        let query = parse_query(Some(
            "name.exact=_acme-challenge.example.com&type=TXT&name.contains=acme",
        ));
        let filters = dotted_filters(&query, "name");
        assert_eq!(
            filters,
            vec![
                TextFilter::Equal("_acme-challenge.example.com".into()),
                TextFilter::Contains("acme".into())
            ]
        );
        assert_eq!(
            dotted_filters(&parse_query(Some("name=a.example.com")), "name"),
            vec![TextFilter::Equal("a.example.com".into())]
        );
    }

    #[test]
    fn zone_operator_prefix() {
        let filters = zone_name_filters(&parse_query(Some("name=ends_with:.org")));
        assert_eq!(filters, vec![TextFilter::EndsWith(".org".into())]);
    }

    #[test]
    fn pages_past_the_end_are_empty() {
        let items: Vec<u32> = (0..7).collect();
        let (first_page, info) = paginate(
            &items,
            PageRequest {
                page: 1,
                per_page: 5,
            },
        );
        assert_eq!(first_page, vec![0, 1, 2, 3, 4]);
        assert_eq!(info["total_pages"], 2);
        let (second_page, _) = paginate(
            &items,
            PageRequest {
                page: 2,
                per_page: 5,
            },
        );
        assert_eq!(second_page, vec![5, 6]);
        let (third_page, info) = paginate(
            &items,
            PageRequest {
                page: 3,
                per_page: 5,
            },
        );
        assert!(third_page.is_empty());
        assert_eq!(info["count"], 0);
        assert_eq!(info["total_count"], 7);
    }

    #[test]
    fn page_size_is_clamped() {
        let request = page_request(&parse_query(Some("per_page=1000&page=2.0")), 20, 5, 50);
        assert_eq!(
            request,
            PageRequest {
                page: 2,
                per_page: 50
            }
        );
        let request = page_request(&parse_query(None), 20, 5, 50);
        assert_eq!(
            request,
            PageRequest {
                page: 1,
                per_page: 20
            }
        );
    }
}
