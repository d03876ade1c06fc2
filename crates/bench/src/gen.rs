//! Realistic Vietnamese customers from a seeded RNG, so runs are comparable.

use crm_domain::customer::CustomerInput;
use crm_domain::text::fold;
use rand::rngs::StdRng;
use rand::Rng;

/// Family names with their approximate share of the population (percent).
const FAMILY: &[(&str, u32)] = &[
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 51),
    ("Huỳnh", 30),
    ("Phan", 45),
    ("Vũ", 39),
    ("Võ", 30),
    ("Đặng", 21),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
    ("Đinh", 5),
    ("Trịnh", 4),
    ("Đoàn", 4),
    ("Lâm", 4),
    ("Mai", 3),
    ("Tô", 2),
    ("Hà", 3),
    ("Tạ", 2),
    ("Châu", 2),
    ("Quách", 1),
    ("Lương", 2),
    ("Kiều", 1),
    ("Mạc", 1),
    ("Thái", 1),
];

const MIDDLE_M: &[&str] = &[
    "Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thành", "Ngọc", "Xuân", "Hoàng", "Gia", "Tuấn",
];
const MIDDLE_F: &[&str] = &[
    "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mai", "Bảo", "Phương", "Hồng", "Diệu", "Khánh", "Minh",
];
const GIVEN_M: &[&str] = &[
    "An", "Anh", "Bảo", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Đức", "Giang", "Hải", "Hiếu",
    "Hoà", "Hùng", "Huy", "Khang", "Khánh", "Khoa", "Kiên", "Lâm", "Long", "Lộc", "Minh", "Nam",
    "Nghĩa", "Nhân", "Phát", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Tâm", "Thắng",
    "Thịnh", "Toàn", "Trí", "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Khải", "Hậu", "Lợi",
    "Tín", "Thuận", "Hưng",
];
const GIVEN_F: &[&str] = &[
    "An", "Anh", "Bích", "Chi", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa",
    "Hồng", "Huệ", "Hương", "Khuê", "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Nga", "Ngân",
    "Ngọc", "Nhung", "Oanh", "Phương", "Quyên", "Quỳnh", "Thảo", "Thư", "Thuỷ", "Trang", "Trâm",
    "Uyên", "Vân", "Vy", "Xuân", "Yến", "Tuyết", "Diệp", "Nhi", "Tâm", "Thơ", "Hạ", "Ly", "Kiều",
    "Châu", "Ánh",
];
const MOBILE: &[&str] = &[
    "032", "033", "034", "035", "036", "037", "038", "039", "070", "076", "077", "078", "079",
    "081", "082", "083", "084", "085", "086", "088", "089", "090", "091", "092", "093", "094",
    "096", "097", "098", "056", "058", "059",
];
const STREETS: &[&str] = &[
    "Lê Lợi",
    "Nguyễn Huệ",
    "Trần Hưng Đạo",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Cách Mạng Tháng Tám",
    "Võ Văn Tần",
    "Phan Đình Phùng",
    "Nguyễn Trãi",
    "Lạc Long Quân",
    "Kim Mã",
    "Láng Hạ",
    "Bạch Đằng",
    "Hùng Vương",
    "Quang Trung",
    "Nguyễn Văn Linh",
    "Tôn Đức Thắng",
];
const CITIES: &[&str] = &[
    "Quận 1, TP. Hồ Chí Minh",
    "Quận 3, TP. Hồ Chí Minh",
    "Quận Bình Thạnh, TP. Hồ Chí Minh",
    "TP. Thủ Đức, TP. Hồ Chí Minh",
    "Quận Ba Đình, Hà Nội",
    "Quận Cầu Giấy, Hà Nội",
    "Quận Hoàn Kiếm, Hà Nội",
    "Quận Hải Châu, Đà Nẵng",
    "Quận Ninh Kiều, Cần Thơ",
    "Quận Lê Chân, Hải Phòng",
    "TP. Biên Hoà, Đồng Nai",
    "TP. Thủ Dầu Một, Bình Dương",
];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "icloud.com",
    "fpt.vn",
    "vnpt.vn",
];

fn pick<'a>(rng: &mut StdRng, items: &[&'a str]) -> &'a str {
    items[rng.gen_range(0..items.len())]
}

fn family(rng: &mut StdRng) -> &'static str {
    let total: u32 = FAMILY.iter().map(|(_, w)| w).sum();
    let mut n = rng.gen_range(0..total);
    for (name, w) in FAMILY {
        if n < *w {
            return name;
        }
        n -= w;
    }
    FAMILY[0].0
}

/// One generated customer, with the raw values the benchmark queries by.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    /// National form, e.g. `0912345678`.
    pub phone: String,
    pub email: String,
    pub address: String,
}

impl Person {
    pub fn generate(rng: &mut StdRng) -> Self {
        let female = rng.gen_bool(0.5);
        let fam = family(rng);
        let (middle, given) = if female {
            (pick(rng, MIDDLE_F), pick(rng, GIVEN_F))
        } else {
            (pick(rng, MIDDLE_M), pick(rng, GIVEN_M))
        };
        let name = if rng.gen_bool(0.15) {
            let second = if female {
                pick(rng, MIDDLE_F)
            } else {
                pick(rng, MIDDLE_M)
            };
            format!("{fam} {middle} {second} {given}")
        } else {
            format!("{fam} {middle} {given}")
        };
        let phone = format!("{}{:07}", pick(rng, MOBILE), rng.gen_range(0..10_000_000));
        let local = format!(
            "{}.{}{}",
            fold(given).replace(' ', ""),
            fold(fam),
            rng.gen_range(1..100_000)
        );
        let email = format!("{local}@{}", pick(rng, DOMAINS));
        let address = format!(
            "{} {}, {}",
            rng.gen_range(1..400),
            pick(rng, STREETS),
            pick(rng, CITIES)
        );
        Self {
            name,
            phone,
            email,
            address,
        }
    }

    /// The phone as people write it: plain, grouped, or international.
    pub fn written_phone(&self, rng: &mut StdRng) -> String {
        let p = &self.phone;
        match rng.gen_range(0..3) {
            0 => p.clone(),
            1 => format!("{} {} {}", &p[..4], &p[4..7], &p[7..]),
            _ => international(p),
        }
    }

    pub fn input(&self, rng: &mut StdRng) -> CustomerInput {
        CustomerInput {
            name: Some(self.name.clone()),
            phone: Some(self.written_phone(rng)),
            email: Some(self.email.clone()),
            address: Some(self.address.clone()),
            note: None,
            ..Default::default()
        }
    }
}

/// `0912345678` -> `+84 912 345 678`.
pub fn international(national: &str) -> String {
    let rest = &national[1..];
    format!("+84 {} {} {}", &rest[..3], &rest[3..6], &rest[6..])
}
