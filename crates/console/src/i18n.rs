//! The console's words in Vietnamese (the default) and English, chosen per browser with the
//! `crm_lang` cookie (`/app/lang/en`, `/app/lang/vi`).

use axum::http::HeaderMap;

use crate::web::cookie;

pub(crate) const LANG_COOKIE: &str = "crm_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    Vi,
    En,
}

impl Lang {
    /// The browser's choice; Vietnamese unless it chose English.
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        match cookie(headers, LANG_COOKIE) {
            Some("en") => Lang::En,
            _ => Lang::Vi,
        }
    }

    pub(crate) fn parse(code: &str) -> Option<Self> {
        match code {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub(crate) fn t(self) -> &'static Texts {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }
}

/// Every word a page shows, in one language.
pub(crate) struct Texts {
    pub html_lang: &'static str,
    /// The other language: its code and its own name, for the switch in the bar.
    pub other_code: &'static str,
    pub other_name: &'static str,
    pub customers: &'static str,
    /// After a number: `12 khách hàng`, `1 customer`.
    pub customers_counted: &'static str,
    pub customer_one: &'static str,
    pub leads: &'static str,
    pub leads_counted: &'static str,
    pub lead_one: &'static str,
    pub company: &'static str,
    pub position: &'static str,
    pub notes: &'static str,
    pub convert: &'static str,
    pub converted: &'static str,
    pub view_customer: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub workspace: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub search_placeholder: &'static str,
    pub search: &'static str,
    pub page: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub code: &'static str,
    pub phone: &'static str,
    pub email: &'static str,
    pub address: &'static str,
    pub group: &'static str,
    pub owner: &'static str,
    pub created: &'static str,
    pub activities: &'static str,
    pub new_note: &'static str,
    pub add_note: &'static str,
    pub no_activities: &'static str,
    /// Activity kinds 1 to 5, then any other.
    pub kinds: [&'static str; 6],
    pub wrong_credentials: &'static str,
    pub sign_in_expired: &'static str,
    /// Followed by a number of seconds.
    pub too_many_attempts: &'static str,
    pub seconds: &'static str,
    pub not_found_title: &'static str,
    pub not_found: &'static str,
    pub forbidden_title: &'static str,
    pub forbidden: &'static str,
    pub invalid_title: &'static str,
    pub conflict_title: &'static str,
    pub retry_title: &'static str,
    pub server_error_title: &'static str,
    pub server_error: &'static str,
    pub back_to_customers: &'static str,
}

static VI: Texts = Texts {
    html_lang: "vi",
    other_code: "en",
    other_name: "English",
    customers: "Khách hàng",
    customers_counted: "khách hàng",
    customer_one: "khách hàng",
    leads: "Khách tiềm năng",
    leads_counted: "khách tiềm năng",
    lead_one: "khách tiềm năng",
    company: "Công ty",
    position: "Chức vụ",
    notes: "Ghi chú",
    convert: "Chuyển thành khách hàng",
    converted: "Đã chuyển thành khách hàng",
    view_customer: "Xem khách hàng",
    sign_in: "Đăng nhập",
    sign_out: "Đăng xuất",
    workspace: "Không gian làm việc",
    username: "Tên đăng nhập",
    password: "Mật khẩu",
    search_placeholder: "Tên, số điện thoại, e-mail, mã…",
    search: "Tìm",
    page: "Trang",
    previous: "← Trước",
    next: "Sau →",
    code: "Mã",
    phone: "Điện thoại",
    email: "E-mail",
    address: "Địa chỉ",
    group: "Nhóm",
    owner: "Phụ trách",
    created: "Tạo lúc",
    activities: "Hoạt động",
    new_note: "Ghi chú mới",
    add_note: "Thêm ghi chú",
    no_activities: "Chưa có hoạt động.",
    kinds: [
        "Cuộc gọi",
        "Cuộc họp",
        "Công việc",
        "E-mail",
        "Ghi chú",
        "Hoạt động",
    ],
    wrong_credentials: "Sai không gian làm việc, tên đăng nhập hoặc mật khẩu.",
    sign_in_expired: "Phiên đăng nhập đã hết hạn; vui lòng thử lại.",
    too_many_attempts: "Quá nhiều lần thử; vui lòng thử lại sau",
    seconds: "giây",
    not_found_title: "Không tìm thấy",
    not_found: "Không có bản ghi này trong không gian làm việc của bạn.",
    forbidden_title: "Không được phép",
    forbidden: "Vai trò của bạn không cho phép thao tác này",
    invalid_title: "Dữ liệu chưa hợp lệ",
    conflict_title: "Xung đột",
    retry_title: "Thử lại sau",
    server_error_title: "Lỗi máy chủ",
    server_error: "Đã có lỗi; vui lòng thử lại.",
    back_to_customers: "Về trang khách hàng",
};

static EN: Texts = Texts {
    html_lang: "en",
    other_code: "vi",
    other_name: "Tiếng Việt",
    customers: "Customers",
    customers_counted: "customers",
    customer_one: "customer",
    leads: "Leads",
    leads_counted: "leads",
    lead_one: "lead",
    company: "Company",
    position: "Position",
    notes: "Notes",
    convert: "Convert to a customer",
    converted: "Converted to a customer",
    view_customer: "View the customer",
    sign_in: "Sign in",
    sign_out: "Sign out",
    workspace: "Workspace",
    username: "Username",
    password: "Password",
    search_placeholder: "Name, phone, e-mail, code…",
    search: "Search",
    page: "Page",
    previous: "← Previous",
    next: "Next →",
    code: "Code",
    phone: "Phone",
    email: "E-mail",
    address: "Address",
    group: "Group",
    owner: "Owner",
    created: "Created",
    activities: "Activities",
    new_note: "New note",
    add_note: "Add note",
    no_activities: "No activities yet.",
    kinds: ["Call", "Meeting", "Task", "E-mail", "Note", "Activity"],
    wrong_credentials: "Wrong workspace, username or password.",
    sign_in_expired: "The sign-in form expired; please try again.",
    too_many_attempts: "Too many attempts; try again in",
    seconds: "seconds",
    not_found_title: "Not found",
    not_found: "There is no such record in your workspace.",
    forbidden_title: "Not allowed",
    forbidden: "Your role does not allow this",
    invalid_title: "Invalid input",
    conflict_title: "Conflict",
    retry_title: "Try again later",
    server_error_title: "Server error",
    server_error: "Something went wrong; please try again.",
    back_to_customers: "Back to customers",
};
