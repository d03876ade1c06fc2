//! NextX's answer shapes shared by several endpoints: the envelopes, and the branch, category,
//! employee and user references records embed. Each is a typed struct, so a shape is written
//! once and its JSON types cannot drift between endpoints.

use crm_domain::ids::{CategoryId, PlaceId, StaffId};
use crm_domain::inventory::{Category, Place, StaffUser};
use serde::Serialize;

/// `{status_code, message}`: the flat answer of a write (and of errors in the flat shape).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct Status {
    pub status_code: u16,
    pub message: String,
}

impl Status {
    pub fn ok(message: &str) -> Self {
        Self {
            status_code: 0,
            message: message.to_owned(),
        }
    }
}

/// `{status_code: 0, message, data}`: a write that answers what it stored.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Created_{T}")]
pub(super) struct Created<T> {
    pub status_code: u16,
    pub message: &'static str,
    pub data: T,
}

impl<T> Created<T> {
    pub fn new(message: &'static str, data: T) -> Self {
        Self {
            status_code: 0,
            message,
            data,
        }
    }
}

/// `{"id": …}`: what a create answers, and a reference to a record the server cannot fill in.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "IdOnly_{T}")]
pub(super) struct IdOnly<T> {
    pub id: T,
}

/// `{meta: {message, status_code}, data}`: the doc's V1 envelope.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "Meta_{T}")]
pub(super) struct Meta<'a, T> {
    pub meta: MetaHead<'a>,
    pub data: T,
}

impl<T> Meta<'static, T> {
    pub fn ok(message: &'static str, data: T) -> Self {
        Self {
            meta: MetaHead {
                message,
                status_code: 0,
            },
            data,
        }
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct MetaHead<'a> {
    pub message: &'a str,
    pub status_code: i64,
}

/// `[]`: the `data` of an answer that carries none.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct NoData([(); 0]);

pub(super) const NO_DATA: NoData = NoData([]);

/// `{id, name}` pairs: resources, and a record's resources.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[schemars(rename = "IdName_{T}")]
pub(super) struct IdName<T> {
    pub id: T,
    pub name: String,
}

/// A branch or a store; a store also names its branch.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct PlaceOut {
    pub id: PlaceId,
    pub name: String,
    pub code: String,
    pub tel: Option<String>,
    pub fax: Option<String>,
    pub avatar: Option<String>,
    pub address: Option<String>,
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_id: Option<Option<PlaceId>>,
}

impl PlaceOut {
    pub fn branch(p: &Place) -> Self {
        Self {
            id: p.id,
            name: p.name.clone(),
            code: p.code.clone(),
            tel: p.tel.clone(),
            fax: p.fax.clone(),
            avatar: p.avatar.clone(),
            address: p.address.clone(),
            description: p.description.clone(),
            branch_id: None,
        }
    }

    pub fn store(p: &Place) -> Self {
        Self {
            branch_id: Some(p.branch_id),
            ..Self::branch(p)
        }
    }
}

/// A category without its children.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct CategoryRow {
    pub id: CategoryId,
    pub name: String,
    pub parent_id: CategoryId,
    pub picture: Option<String>,
    pub description: Option<String>,
}

impl From<&Category> for CategoryRow {
    fn from(c: &Category) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            parent_id: c.parent_id,
            picture: c.picture.clone(),
            description: c.description.clone(),
        }
    }
}

/// A category with its direct children, under `child` (the list) or `childs` (one category).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct CategoryOut {
    #[serde(flatten)]
    pub category: CategoryRow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child: Option<Vec<CategoryRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub childs: Option<Vec<CategoryRow>>,
}

impl CategoryOut {
    /// `plural`: the children under `childs` rather than `child`.
    pub fn new(c: &Category, all: &[Category], plural: bool) -> Self {
        let children: Vec<CategoryRow> = all
            .iter()
            .filter(|x| x.parent_id == c.id)
            .map(CategoryRow::from)
            .collect();
        let (child, childs) = if plural {
            (None, Some(children))
        } else {
            (Some(children), None)
        };
        Self {
            category: c.into(),
            child,
            childs,
        }
    }
}

/// An employee as the doc's records show one (`employee`, `employers`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct EmployeeOut {
    pub id: StaffId,
    pub code: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub avatar: String,
    pub email: String,
    pub tel: String,
    pub phone: String,
    #[serde(rename = "isSale")]
    pub is_sale: bool,
    pub branch_id: Option<PlaceId>,
}

impl From<&StaffUser> for EmployeeOut {
    fn from(u: &StaffUser) -> Self {
        Self {
            id: u.id,
            code: u.employee_code.clone(),
            first_name: u.firstname.clone().unwrap_or_default(),
            last_name: u.lastname.clone().unwrap_or_default(),
            avatar: u.picture.clone().unwrap_or_default(),
            email: u.email.clone().unwrap_or_default(),
            tel: u.tel.clone().unwrap_or_default(),
            phone: u.tel.clone().unwrap_or_default(),
            is_sale: u.is_sale,
            branch_id: u.branch_id,
        }
    }
}

/// A user reference (`assigned`, `user`) as the staff directory fills it in.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct UserRefOut {
    pub id: StaffId,
    pub name: String,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub picture: Option<String>,
    pub designation: String,
    pub employee_id: StaffId,
}

impl From<&StaffUser> for UserRefOut {
    fn from(u: &StaffUser) -> Self {
        Self {
            id: u.id,
            name: u.username.clone(),
            email: u.email.clone().unwrap_or_default(),
            firstname: u.firstname.clone().unwrap_or_default(),
            lastname: u.lastname.clone().unwrap_or_default(),
            picture: u.picture.clone(),
            designation: u.designation.clone().unwrap_or_default(),
            employee_id: u.id,
        }
    }
}

/// A reference filled from the staff directory, or only its id when it names no one there.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Known_{T}")]
pub(super) enum Known<T> {
    Found(T),
    Unknown(IdOnly<StaffId>),
}

/// `users` looked up by `id`: `null` for no id, `{id}` for one the directory lacks.
pub(super) fn staff_ref<T: for<'a> From<&'a StaffUser>>(
    users: &[StaffUser],
    id: Option<StaffId>,
) -> Option<Known<T>> {
    let id = id?;
    Some(match users.iter().find(|u| u.id == id) {
        Some(u) => Known::Found(T::from(u)),
        None => Known::Unknown(IdOnly { id }),
    })
}
