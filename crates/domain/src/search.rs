//! The filter tree every search compiles from, and the search terms behind it.
//!
//! A record is indexed as a set of `(field, term)` pairs: the word rotations of its folded names
//! (`nguyen van an`, `van an nguyen`, `an nguyen van`) and, for a person's name of three words
//! or more, family and given name alone (`nguyen an`); the canonical phone key and its digits
//! reversed (so the last digits are a prefix); the lower-cased e-mail and the words of its local
//! part and of its domain. A text query is parsed into term prefixes that must all match (AND);
//! the store turns each into one indexed range scan. Because every word starts a rotation, a
//! single word matches wherever it stands in the name, and several words typed in the name's
//! order from any word (`van an`, `an nguyen`) match as one selective prefix instead of an
//! intersection of common words. `docs/search.md` says what finds what.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult};
use crate::text::{canonical_phone, fold, words, Email, Phone};

/// Longest term kept in the index; longer words are cut (queries are cut the same way).
pub const MAX_TERM_LEN: usize = 64;
/// Largest page a search may ask for.
pub const MAX_PAGE_SIZE: u32 = 500;
/// Most nodes a filter tree may have (each becomes a condition; lists count as one node).
pub const MAX_FILTER_NODES: usize = 64;
/// Longest typed query read; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 256;
/// Most terms one typed query may become (each is one index scan).
pub const MAX_TEXT_TERMS: usize = 8;
/// Most values in one list of a filter (`In`, `Terms`, `Ids`): one bound array in the query.
pub const MAX_FILTER_VALUES: usize = 1000;
/// Most index entries one typed term of a client's search reads ([`PageRequest::typed`]): a
/// word half the tenant shares (`nguyen`, `n`) costs a bounded time, like a rare one; the
/// matches past this many, in the index's alphabetical order of terms, are not found.
pub const MAX_TERM_MATCHES: u64 = 2_000;

/// The searchable text fields of a record, stored as small integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TextField {
    Name = 1,
    Code = 2,
    Phone = 3,
    Email = 4,
    Other = 5,
    /// The name of the customer a record belongs to.
    CustomerName = 6,
    ContactName = 7,
    LeadName = 8,
    /// The name of the record an activity is about.
    PrimaryName = 9,
    /// A subject or title.
    Subject = 10,
    /// Labels, matched whole: tags, industries (OMI `business`), categories.
    Tag = 11,
    Business = 12,
    Category = 13,
    /// A partner's own id of the record (OMI `refId`), matched whole.
    RefId = 14,
    /// The branch a record belongs to (NextX `branch_id`), matched whole.
    Branch = 15,
    /// A phone key's digits reversed: the last digits typed, reversed, are its prefix.
    PhoneTail = 16,
}

impl TextField {
    pub fn code(self) -> i16 {
        self as i16
    }

    /// Fields holding a person's name, which also get the family-and-given-name term.
    fn is_person_name(self) -> bool {
        matches!(
            self,
            TextField::Name
                | TextField::CustomerName
                | TextField::ContactName
                | TextField::LeadName
        )
    }
}

/// Fewest trailing digits of a phone that a query may be (fewer match too much).
pub const MIN_PHONE_TAIL: usize = 4;

/// What a ranked search puts first: records with one of these exact terms (an exact phone,
/// e-mail or code), then those whose name is the query whole (in any rotation), then the rest.
pub const EXACT_FIELDS: [TextField; 3] = [TextField::Phone, TextField::Email, TextField::Code];
pub const WHOLE_NAME_FIELDS: [TextField; 4] = [
    TextField::Name,
    TextField::CustomerName,
    TextField::ContactName,
    TextField::LeadName,
];

/// Record attributes a search can pin to a value or a time range. Each record kind maps
/// the ones it has onto its columns; asking a kind for one it lacks is a programming error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    // References (ids).
    Group,
    Customer,
    Contact,
    Lead,
    Product,
    Order,
    Owner,
    OrgUnit,
    Campaign,
    Segment,
    Template,
    Ticket,
    /// The record an activity is primarily about.
    Primary,
    // Codes and flags.
    Kind,
    Status,
    Priority,
    Channel,
    Supplier,
    PrimaryKind,
    MemberKind,
    Approved,
    TicketType,
    /// A record's business code, matched exactly.
    Code,
    /// A record's stable integer id (vendors with integer ids).
    Seq,
    /// A product's category (NextX).
    Category,
    /// The VBot project a record belongs to.
    Project,
    /// VBot customer status and type (vocabulary entries).
    CustomerStatus,
    CustomerType,
    // Instants.
    CreatedAt,
    UpdatedAt,
    StartTime,
    EndTime,
    DueDate,
    OrderDate,
    /// When a ticket was raised.
    ReportedAt,
    /// When a deal was decided (won or lost).
    ClosedAt,
}

/// The value an attribute is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Id(Uuid),
    Int(i64),
    Bool(bool),
    Text(String),
}

/// A node of the filter tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every child must hold.
    All(Vec<Filter>),
    /// Every term of the query must prefix-match a term of the record (in `field`, or any).
    Text {
        field: Option<TextField>,
        terms: Vec<String>,
    },
    /// The attribute equals the value.
    Eq { field: Field, value: Value },
    /// The instant lies in `[from, to]` (either bound may be open).
    Range {
        field: Field,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    },
    /// At least one child must hold.
    Any(Vec<Filter>),
    /// The record's id is (or, with `negate`, is not) one of `ids`.
    Ids { ids: Vec<Uuid>, negate: bool },
    /// The record has exactly this term in `field` (a label, a partner id).
    Term { field: TextField, term: String },
    /// The attribute equals one of the values (one `IN` list, however many values).
    In { field: Field, values: Vec<Value> },
    /// The record has one of these exact terms in `field` (any of several labels).
    Terms {
        field: TextField,
        terms: Vec<String>,
    },
    /// Matches no record (a query with nothing searchable in it).
    Nothing,
    /// The record's integer id is below this one: the next page of a walk newest first that
    /// neither repeats nor skips a record, whatever is written meanwhile.
    SeqBelow(i64),
}

impl Filter {
    /// Whether this filter holds for every record (no criterion at all).
    pub fn is_everything(&self) -> bool {
        match self {
            Filter::All(children) => children.iter().all(Filter::is_everything),
            _ => false,
        }
    }

    /// The reference `field` is `id`.
    pub fn id(field: Field, id: Uuid) -> Self {
        Filter::Eq {
            field,
            value: Value::Id(id),
        }
    }

    /// Matches everything.
    pub fn all() -> Self {
        Filter::All(Vec::new())
    }

    /// Parses what a user typed into term prefixes. Empty input yields no filter.
    ///
    /// - a query of digits (spaces, dots, dashes allowed) matches a phone: as its canonical key
    ///   when it reads as a whole number (`+84 912 345 678`), and, from
    ///   [`MIN_PHONE_TAIL`] digits, as the phone's last digits (`345678`);
    /// - a chunk with `@` is an e-mail prefix, lower-cased; one starting with `@` is a domain;
    /// - the other words, folded (`Nguyễn` and `nguyen` are the same word), form one phrase:
    ///   consecutive words of a name, in order from any word, the last one possibly cut short.
    pub fn text(field: Option<TextField>, query: &str) -> Option<Self> {
        // Terms are cut at MAX_TERM_LEN bytes, so nothing past this many characters can matter.
        let query = match query.char_indices().nth(MAX_QUERY_CHARS) {
            Some((end, _)) => &query[..end],
            None => query,
        };
        let query = query.trim();
        if query.is_empty() {
            return None;
        }
        if matches!(field, None | Some(TextField::Phone)) {
            if let Some(f) = Self::phone_text(field, query) {
                return Some(f);
            }
        }
        let mut out = Vec::new();
        let mut phrase = Vec::new();
        for chunk in query.split_whitespace() {
            if let Some(domain) = chunk.strip_prefix('@') {
                out.push(words(domain).join(" "));
            } else if chunk.contains('@') || field == Some(TextField::Email) {
                out.push(chunk.to_lowercase());
            } else {
                phrase.extend(words(chunk));
            }
        }
        if !phrase.is_empty() {
            out.push(phrase.join(" "));
        }
        let terms: Vec<String> = out.into_iter().map(cut).filter(|t| !t.is_empty()).collect();
        if terms.is_empty() {
            // Nothing searchable (only punctuation): a query that matches nothing, not everything.
            return Some(Filter::Nothing);
        }
        Some(Filter::Text { field, terms })
    }

    /// A query of digits: the phone it reads as, or its digits as a prefix (of a phone when
    /// `field` is one, of any term otherwise), or, from [`MIN_PHONE_TAIL`] digits, a phone's
    /// last digits. `None` when the query is not digits.
    fn phone_text(field: Option<TextField>, query: &str) -> Option<Self> {
        let canonical = canonical_phone(query);
        let bare = query
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')'));
        let digits: String = query.chars().filter(char::is_ascii_digit).collect();
        let head = match canonical {
            Some(key) => Filter::Text {
                field: Some(TextField::Phone),
                terms: vec![cut(key)],
            },
            None if bare && !digits.is_empty() => Filter::Text {
                field,
                terms: vec![cut(digits.clone())],
            },
            // A phone field searched for something that is not digits: its folded text.
            None if field == Some(TextField::Phone) => {
                let term = if digits.is_empty() {
                    fold(query)
                } else {
                    digits.clone()
                };
                return Some(Filter::Text {
                    field,
                    terms: vec![cut(term)],
                });
            }
            None => return None,
        };
        if !bare || digits.len() < MIN_PHONE_TAIL {
            return Some(head);
        }
        let tail = Filter::Text {
            field: Some(TextField::PhoneTail),
            terms: vec![cut(digits.chars().rev().collect())],
        };
        Some(Filter::Any(vec![head, tail]))
    }

    /// A whole-value term: folded, spaces collapsed (how labels are indexed).
    pub fn whole(field: TextField, value: &str) -> Self {
        Filter::Term {
            field,
            term: whole_term(value),
        }
    }

    /// The attribute equals any of `values`; `None` when there are none.
    pub fn any_of(field: Field, values: Vec<Value>) -> Option<Self> {
        (!values.is_empty()).then_some(Filter::In { field, values })
    }

    /// Any of the labels `names`, matched whole; `None` when no name has text.
    pub fn any_whole<'a>(
        field: TextField,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Option<Self> {
        let mut terms: Vec<String> = names
            .into_iter()
            .map(whole_term)
            .filter(|t| !t.is_empty())
            .collect();
        terms.sort_unstable();
        terms.dedup();
        (!terms.is_empty()).then_some(Filter::Terms { field, terms })
    }

    /// Refuses a tree too large to compile into one bounded query: more than
    /// [`MAX_FILTER_NODES`] nodes, or a list of more than [`MAX_FILTER_VALUES`] values.
    /// Walks the tree with an explicit stack, so no input can exhaust the call stack.
    pub fn check(&self) -> DomainResult<()> {
        let mut stack = vec![self];
        let mut nodes = 0usize;
        while let Some(f) = stack.pop() {
            nodes += 1;
            if nodes > MAX_FILTER_NODES {
                return Err(DomainError::validation(
                    "filter",
                    format!("has more than {MAX_FILTER_NODES} conditions"),
                ));
            }
            let values = match f {
                Filter::All(children) | Filter::Any(children) => {
                    stack.extend(children);
                    0
                }
                Filter::In { values, .. } => values.len(),
                Filter::Terms { terms, .. } => terms.len(),
                Filter::Ids { ids, .. } => ids.len(),
                Filter::Text { terms, .. } if terms.len() > MAX_TEXT_TERMS => {
                    return Err(DomainError::validation(
                        "search",
                        format!("has more than {MAX_TEXT_TERMS} separate e-mail terms"),
                    ));
                }
                Filter::Text { .. } => 0,
                Filter::Eq { .. }
                | Filter::Range { .. }
                | Filter::Term { .. }
                | Filter::SeqBelow(_)
                | Filter::Nothing => 0,
            };
            if values > MAX_FILTER_VALUES {
                return Err(DomainError::validation(
                    "filter",
                    format!("a list has {values} values; at most {MAX_FILTER_VALUES} are allowed"),
                ));
            }
        }
        Ok(())
    }

    /// Appends `other` to an `All` node (or wraps both).
    pub fn and(self, other: Option<Filter>) -> Self {
        match (self, other) {
            (f, None) => f,
            (Filter::All(mut v), Some(o)) => {
                v.push(o);
                Filter::All(v)
            }
            (f, Some(o)) => Filter::All(vec![f, o]),
        }
    }
}

/// A label or partner id as one index term: folded, words joined by single spaces.
pub fn whole_term(value: &str) -> String {
    cut(words(value).join(" "))
}

fn cut(mut term: String) -> String {
    if term.len() > MAX_TERM_LEN {
        let mut end = MAX_TERM_LEN;
        while !term.is_char_boundary(end) {
            end -= 1;
        }
        term.truncate(end);
    }
    term
}

/// The index terms of one record.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TermSet(Vec<(TextField, String)>);

impl TermSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every word rotation of the folded text: `Nguyễn Văn An` gives `nguyen van an`,
    /// `van an nguyen` and `an nguyen van`, so words typed in order from any of them match as a
    /// prefix. A person's name of three words or more also gives its first and last word
    /// (`nguyen an`), how people shorten a Vietnamese name.
    pub fn words(mut self, field: TextField, text: Option<&str>) -> Self {
        if let Some(text) = text {
            self.rotations(field, &words(text));
        }
        self
    }

    fn rotations(&mut self, field: TextField, w: &[String]) {
        // Each rotation is built only to the term length: linear in the words.
        for start in 0..w.len() {
            let mut term = String::new();
            for word in w[start..].iter().chain(&w[..start]) {
                if !term.is_empty() {
                    term.push(' ');
                }
                term.push_str(word);
                if term.len() > MAX_TERM_LEN {
                    break;
                }
            }
            self.0.push((field, cut(term)));
        }
        if field.is_person_name() && w.len() >= 3 {
            self.0
                .push((field, cut(format!("{} {}", w[0], w[w.len() - 1]))));
        }
    }

    /// The whole value as one term (labels, partner ids).
    pub fn whole(mut self, field: TextField, value: Option<&str>) -> Self {
        if let Some(v) = value {
            let term = whole_term(v);
            if !term.is_empty() {
                self.0.push((field, term));
            }
        }
        self
    }

    /// The canonical key, and its digits reversed (the last digits typed, reversed, match).
    pub fn phone(mut self, phone: Option<&Phone>) -> Self {
        if let Some(p) = phone {
            self.0.push((TextField::Phone, cut(p.key().to_owned())));
            let tail: String = p.key().chars().filter(char::is_ascii_digit).rev().collect();
            if !tail.is_empty() {
                self.0.push((TextField::PhoneTail, cut(tail)));
            }
        }
        self
    }

    /// The whole address, lower-cased: a query matches it from its start (`an.nguyen@`); the
    /// words of its local part in rotation (`nguyen an` for `an.nguyen@`) and of its domain
    /// (`example vn`).
    pub fn email(mut self, email: Option<&Email>) -> Self {
        if let Some(e) = email {
            let key = e.key();
            self.0.push((TextField::Email, cut(key.to_owned())));
            if let Some((local, domain)) = key.rsplit_once('@') {
                let local = words(local);
                if local.len() > 1 {
                    self.rotations(TextField::Email, &local);
                }
                let domain = words(domain).join(" ");
                if !domain.is_empty() {
                    self.0.push((TextField::Email, cut(domain)));
                }
            }
        }
        self
    }

    /// The distinct pairs, in a stable order.
    pub fn finish(mut self) -> Vec<(TextField, String)> {
        self.0.sort();
        self.0.dedup();
        self.0
    }
}

/// A 1-based page of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub number: u32,
    pub size: u32,
    /// Count the matches only up to one past this many (the total then says "more than"):
    /// a list that does not need an exact count of a million rows does not pay for it.
    pub count_up_to: Option<u64>,
    /// Read at most this many index entries per typed term ([`MAX_TERM_MATCHES`] for what a
    /// client asks); `None` reads every match, for walks that must see them all (exports,
    /// campaign recipients, automations).
    pub term_matches_up_to: Option<u64>,
}

impl PageRequest {
    pub fn new(number: u32, size: u32) -> DomainResult<Self> {
        if number == 0 {
            return Err(DomainError::validation("page_number", "must be 1 or more"));
        }
        if size == 0 || size > MAX_PAGE_SIZE {
            return Err(DomainError::validation(
                "page_size",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        Ok(Self::of(number, size))
    }

    /// Page `number` of `size` records, counted exactly, for a caller that knows both are in
    /// range (an internal read: the first match, a batch of [`MAX_PAGE_SIZE`]); what a client
    /// asks for goes through [`PageRequest::new`].
    pub const fn of(number: u32, size: u32) -> Self {
        Self {
            number,
            size,
            count_up_to: None,
            term_matches_up_to: None,
        }
    }

    /// Page `number` of `size` records that a client asks for ([`PageRequest::new`]), its
    /// typed terms read up to [`MAX_TERM_MATCHES`] index entries each.
    pub fn typed(number: u32, size: u32) -> DomainResult<Self> {
        Ok(Self {
            term_matches_up_to: Some(MAX_TERM_MATCHES),
            ..Self::new(number, size)?
        })
    }

    /// The same page, its matches counted only up to one past `cap`.
    pub fn counting_up_to(self, cap: u64) -> Self {
        Self {
            count_up_to: Some(cap),
            ..self
        }
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.number - 1) * u64::from(self.size)
    }
}

/// One page of results and the total number of matches.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub request: PageRequest,
}

impl<T> Page<T> {
    /// Whether there are more matches than the request counted up to (`total` is then one
    /// past the cap).
    pub fn more_than_counted(&self) -> bool {
        self.request.count_up_to.is_some_and(|cap| self.total > cap)
    }

    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(u64::from(self.request.size))
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            request: self.request,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(f: Option<Filter>) -> (Option<TextField>, Vec<String>) {
        match f {
            Some(Filter::Text { field, terms }) => (field, terms),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn accentless_name_query_becomes_one_phrase() {
        assert_eq!(
            terms(Filter::text(None, "Nguyễn  văn")),
            (None, vec!["nguyen van".into()])
        );
        assert_eq!(
            terms(Filter::text(None, "nguyen an@x.vn")),
            (None, vec!["an@x.vn".into(), "nguyen".into()])
        );
    }

    #[test]
    fn phone_query_in_any_form_becomes_canonical_key() {
        assert_eq!(
            terms(Filter::text(None, "+84 912 345 678")),
            (Some(TextField::Phone), vec!["0912345678".into()])
        );
    }

    #[test]
    fn email_query_is_one_lowercase_term() {
        assert_eq!(
            terms(Filter::text(None, "An.Nguyen@Gmail.com")),
            (None, vec!["an.nguyen@gmail.com".into()])
        );
    }

    #[test]
    fn empty_query_is_no_filter_and_punctuation_matches_nothing() {
        assert!(Filter::text(None, "  ").is_none());
        assert_eq!(Filter::text(None, "!!"), Some(Filter::Nothing));
    }

    #[test]
    fn record_terms_cover_name_phone_and_email() {
        let phone = Phone::parse("phone", "+84 912 345 678").expect("phone");
        let email = Email::parse("email", "Lan.Tran@Example.vn").expect("email");
        let t = TermSet::new()
            .words(TextField::Name, Some("Trần Thị Lan"))
            .phone(Some(&phone))
            .email(Some(&email))
            .finish();
        let of = |field: TextField| -> Vec<&str> {
            t.iter()
                .filter(|(f, _)| *f == field)
                .map(|(_, term)| term.as_str())
                .collect()
        };
        assert_eq!(
            of(TextField::Name),
            ["lan tran thi", "thi lan tran", "tran lan", "tran thi lan"],
            "three rotations and family + given name"
        );
        assert_eq!(of(TextField::Phone), ["0912345678"]);
        assert_eq!(of(TextField::PhoneTail), ["8765432190"]);
        assert_eq!(
            of(TextField::Email),
            ["example vn", "lan tran", "lan.tran@example.vn", "tran lan"],
            "the address, its local part's words in rotation, its domain"
        );
    }

    #[test]
    fn rotations_stop_at_the_term_length() {
        let long = "từ ".repeat(200);
        let t = TermSet::new()
            .words(TextField::Subject, Some(&long))
            .finish();
        assert_eq!(t.len(), 1, "200 rotations of the same words are one term");
        assert!(t[0].1.len() <= MAX_TERM_LEN);
        let short = TermSet::new()
            .words(TextField::Subject, Some("a b"))
            .finish();
        assert_eq!(
            short.len(),
            2,
            "no family + given name outside person names"
        );
    }

    #[test]
    fn digits_match_a_phone_whole_or_by_its_last_digits() {
        let tail = |t: &str| Filter::Text {
            field: Some(TextField::PhoneTail),
            terms: vec![t.into()],
        };
        assert_eq!(
            Filter::text(None, "345 678"),
            Some(Filter::Any(vec![
                Filter::Text {
                    field: None,
                    terms: vec!["345678".into()],
                },
                tail("876543"),
            ]))
        );
        assert_eq!(
            Filter::text(None, "0912345678"),
            Some(Filter::Any(vec![
                Filter::Text {
                    field: Some(TextField::Phone),
                    terms: vec!["0912345678".into()],
                },
                tail("8765432190"),
            ]))
        );
        assert_eq!(
            terms(Filter::text(None, "+84 912 345 678")),
            (Some(TextField::Phone), vec!["0912345678".into()]),
            "a phone with its country code is not a tail"
        );
        assert_eq!(
            terms(Filter::text(None, "567")),
            (None, vec!["567".into()]),
            "three digits are too few for a tail"
        );
    }

    #[test]
    fn an_at_sign_first_is_a_domain() {
        assert_eq!(
            terms(Filter::text(None, "@Example.vn")),
            (None, vec!["example vn".into()])
        );
    }

    #[test]
    fn page_bounds() {
        assert!(PageRequest::new(0, 10).is_err());
        assert!(PageRequest::new(1, MAX_PAGE_SIZE + 1).is_err());
        assert_eq!(PageRequest::new(3, 20).expect("valid").offset(), 40);
    }
}
