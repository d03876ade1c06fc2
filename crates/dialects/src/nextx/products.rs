//! NextX products (seed 003): products with a base unit and sub-units, combos, opening
//! stock, list with stock per store, and the product detail.

use crm_domain::money::Money;
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Json, Router};
use crm_domain::ids::{CategoryId, UnitId};
use crm_domain::inventory::ProductExt;
use crm_domain::sales::{Product, ProductData};
use crm_domain::search::{Field, Filter};
use crm_domain::stock::{NamedUnit, Opening};
use crm_domain::Actor;
use serde::{Deserialize, Serialize};
use serde_json::Number;

use super::doc_out::UnitOut;

use super::kit::api::*;
use crate::body::{lenient_int, lenient_num, parse_ci};
use crate::AppState;

use super::kit::*;

pub(super) fn router(spec: &mut Spec) -> Router<AppState> {
    const T: &str = "Products";
    Api::new(spec)
        .route::<(), Vec<ProductRow>, _, _>(
            M::GET,
            "/api/product/product",
            Op::bearer(T, "Products of a branch, a page").query(BRANCH_GOODS),
            products,
        )
        .route::<ProductIn, NewProduct, _, _>(
            M::POST,
            "/api/product/product",
            Op::bearer(T, "Add a product"),
            product_add,
        )
        .route::<ProductIn, Status, _, _>(
            M::PUT,
            "/api/product/product/{id}",
            Op::bearer(T, "Update a product").int_id(),
            product_put,
        )
        .route::<(), ProductDetail, _, _>(
            M::GET,
            "/api/product/product-detail",
            Op::bearer(T, "A product variation, with its stock").query(&[
                needed(int("variation_id")),
                int("branch_id"),
                int("store_id"),
            ]),
            product_detail,
        )
        .router
}

// ---- products ----

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct UnitDef {
    #[serde(default)]
    name: Option<String>,
    #[serde(
        default,
        rename = "f_Convert",
        alias = "f_convert",
        deserialize_with = "lenient_num"
    )]
    f_convert: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    price: Option<f64>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct UnitsIn {
    #[serde(default)]
    unit_base: Option<UnitDef>,
    #[serde(default)]
    sub_unit: Vec<UnitDef>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct MediaIn {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct ComponentIn {
    #[serde(default, deserialize_with = "lenient_int")]
    product_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_num")]
    quantity: Option<f64>,
    #[serde(default, deserialize_with = "lenient_int")]
    unit_id: Option<crm_domain::ids::UnitId>,
    #[serde(default, deserialize_with = "lenient_num")]
    price: Option<f64>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
struct ProductIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    sku: Option<String>,
    #[serde(default, deserialize_with = "lenient_int")]
    brand_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient_int")]
    branch_id: Option<crm_domain::ids::PlaceId>,
    #[serde(default, deserialize_with = "lenient_int")]
    store_id: Option<crm_domain::ids::PlaceId>,
    #[serde(default, deserialize_with = "lenient_int")]
    category_id: Option<crm_domain::ids::CategoryId>,
    #[serde(default)]
    media: Vec<MediaIn>,
    #[serde(default, deserialize_with = "lenient_int")]
    unit_id: Option<crm_domain::ids::UnitId>,
    #[serde(default)]
    unit: Option<UnitsIn>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient_num")]
    purchase_price: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    sell_price: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    weight: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    height: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    width: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    length: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    qty_begin_stock: Option<f64>,
    #[serde(default, deserialize_with = "lenient_num")]
    qty_warning_stock: Option<f64>,
    #[serde(default)]
    specification: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    product_custom_field1: Option<String>,
    #[serde(default)]
    product_custom_field2: Option<String>,
    #[serde(default)]
    composition_variation: Vec<ComponentIn>,
}

/// The product a body describes, over the stored one when updating. The base unit is named
/// (`unit.unit_base.name`: found or created by the domain) or given by id; references are
/// checked by the domain.
fn product_data(p: &ProductIn, old: Option<&Product>) -> ProductData {
    let base_name = p
        .unit
        .as_ref()
        .and_then(|u| u.unit_base.as_ref())
        .and_then(|b| b.name.clone())
        .filter(|n| !n.trim().is_empty());
    let unit_id = match (&base_name, p.unit_id.and_then(|u| u.nonzero())) {
        (Some(_), _) => None,
        (None, Some(id)) => Some(id),
        (None, None) => old.and_then(|o| o.data.unit_id),
    };
    // Components without a product are ignored, as the doc's examples send empty ones.
    let components = p
        .composition_variation
        .iter()
        .filter_map(|c| {
            let pid = c.product_id.filter(|x| *x != 0)?;
            Some((
                pid,
                c.quantity.unwrap_or(1.0),
                c.unit_id,
                Money::from_f64(c.price.unwrap_or(0.0)),
            ))
        })
        .collect();
    let old_ext = old.and_then(|o| o.data.ext.clone()).unwrap_or_default();
    ProductData {
        code: p
            .code
            .clone()
            .filter(|c| !c.trim().is_empty())
            .or_else(|| old.and_then(|o| o.data.code.clone())),
        name: p.name.clone().unwrap_or_default(),
        group_id: old.and_then(|o| o.data.group_id),
        group_name: old.and_then(|o| o.data.group_name.clone()),
        unit_id,
        unit_name: base_name,
        import_price: Money::from_f64(p.purchase_price.unwrap_or(0.0)),
        retail_price: Money::from_f64(p.sell_price.unwrap_or(0.0)),
        wholesale_price: old.map_or(Money::ZERO, |o| o.data.wholesale_price),
        config: old.and_then(|o| o.data.config.clone()),
        note: old.and_then(|o| o.data.note.clone()),
        image: p
            .media
            .first()
            .and_then(|m| m.url.clone())
            .or_else(|| old.and_then(|o| o.data.image.clone())),
        ext: Some(ProductExt {
            sku: p
                .sku
                .clone()
                .filter(|c| !c.trim().is_empty())
                .or(old_ext.sku),
            category_id: p.category_id.and_then(|c| c.nonzero()),
            brand_id: p.brand_id,
            kind: p.kind.clone().unwrap_or(old_ext.kind),
            weight: p.weight.unwrap_or(0.0),
            height: p.height.unwrap_or(0.0),
            width: p.width.unwrap_or(0.0),
            length: p.length.unwrap_or(0.0),
            specification: p.specification.clone(),
            description: p.description.clone(),
            extra1: p.product_custom_field1.clone(),
            extra2: p.product_custom_field2.clone(),
            low_stock_at: p.qty_warning_stock.unwrap_or(old_ext.low_stock_at),
            media: p.media.iter().filter_map(|m| m.url.clone()).collect(),
            components,
        }),
    }
}

async fn product_add(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: Bytes,
) -> Result<Json<NewProduct>, NxError> {
    let p: ProductIn = parse_ci(&body)?;
    let opening = p.qty_begin_stock.unwrap_or(0.0);
    let data = product_data(&p, None);
    let units = p
        .unit
        .as_ref()
        .map(|u| u.sub_unit.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|u| NamedUnit {
            name: u.name.clone().unwrap_or_default(),
            rate: u.f_convert.unwrap_or(0.0),
            retail_price: Money::from_f64(u.price.unwrap_or(0.0)),
        })
        .collect();
    let place = Opening {
        branch: p.branch_id.and_then(|b| b.nonzero()),
        store: p.store_id,
        quantity: opening,
    };
    // The product, its units and its opening stock are one unit of work in the domain.
    let id = s
        .crm
        .create_stocked_product(&actor, data, units, place)
        .await
        .map_err(|e| e.map_field(|f| product_wire_field(f, &p)))?;
    let product: Product = s.crm.get(&actor, id).await?;
    let extra = s.crm.product_units(&actor, id).await?;
    let ext = product.data.ext.clone().unwrap_or_default();
    Ok(Json(NewProduct {
        id: product.seq,
        name: product.data.name,
        sku: ext.sku.clone().or(product.data.code.clone()),
        code: product.data.code,
        brand_id: ext.brand_id,
        category_id: ext.category_id,
        category_ids: NO_DATA,
        unit_id: product.data.unit_id,
        units: extra
            .iter()
            .map(|u| IdOnly {
                id: u.unit_id.to_string(),
            })
            .collect(),
        kind: ext.kind,
        purchase_price: product.data.import_price,
        sell_price: product.data.retail_price,
        weight: ext.weight,
        height: ext.height,
        width: ext.width,
        length: ext.length,
        qty_begin_stock: opening,
        qty_warning_stock: ext.low_stock_at,
    }))
}

/// A created product, echoed in the request's names.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct NewProduct {
    id: i64,
    name: String,
    code: Option<String>,
    sku: Option<String>,
    brand_id: Option<i64>,
    category_id: Option<CategoryId>,
    category_ids: NoData,
    unit_id: Option<UnitId>,
    /// The sub-units' unit ids, as strings.
    units: Vec<IdOnly<String>>,
    #[serde(rename = "type")]
    kind: String,
    purchase_price: Money,
    sell_price: Money,
    weight: f64,
    height: f64,
    width: f64,
    length: f64,
    qty_begin_stock: f64,
    qty_warning_stock: f64,
}

/// A product in the list, with what is on hand in the branch (and store) asked about.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct ProductRow {
    id: i64,
    product_id: i64,
    variations_id: i64,
    product_fullname: String,
    product_code: Option<String>,
    barcode: Option<String>,
    product_image: Option<String>,
    qty_available: f64,
    unit: Option<String>,
    selling_price: Money,
    brand_name: (),
    category_name: Option<String>,
    specification: Option<String>,
    product_type: String,
    weight: f64,
    length: String,
    width: String,
    height: String,
    product_variation: Variation,
}

/// A product's one variation (`product_variation`, `computations`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct Variation {
    product_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    variations_id: Option<i64>,
    #[serde(rename = "variations.id", skip_serializing_if = "Option::is_none")]
    variations_dot_id: Option<i64>,
    unit_id: Option<UnitId>,
    price: Money,
}

/// The product detail (`product-detail`).
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ProductDetail {
    id: i64,
    product_id: i64,
    #[serde(rename = "variations.id")]
    variations_id: i64,
    product_name: String,
    product_actual_name: String,
    product_code: Option<String>,
    product_sku: Option<String>,
    product_image: Option<String>,
    qty_available: f64,
    qty_warning_stock: f64,
    stock_warning: bool,
    default_purchase_price: Money,
    default_sell_price: Money,
    product_type: String,
    specification: Option<String>,
    height: String,
    width: String,
    length: String,
    weight: String,
    computations: Variation,
    /// A string here, unlike everywhere else.
    unit_id: Option<String>,
    unit: Option<String>,
    units: Vec<UnitOut>,
}

/// The wire name of a field the domain names in a product, its units and opening stock. The
/// domain counts only the components that name a product; the wire index counts them all.
fn product_wire_field(field: &str, p: &ProductIn) -> Option<String> {
    if let Some(rest) = field.strip_prefix("units[") {
        let (i, name) = rest.split_once("].")?;
        let wire = match name {
            "unit_rate" => "f_Convert",
            "retail_price" => "price",
            other => other,
        };
        return Some(format!("unit.sub_unit[{i}].{wire}"));
    }
    if let Some(rest) = field.strip_prefix("components[") {
        let (k, name) = rest.split_once("].")?;
        let k: usize = k.parse().ok()?;
        let i = p
            .composition_variation
            .iter()
            .enumerate()
            .filter(|(_, c)| c.product_id.is_some_and(|x| x != 0))
            .nth(k)
            .map_or(k, |(i, _)| i);
        return Some(format!("composition_variation[{i}].{name}"));
    }
    match field {
        "unit_name" => Some("unit.unit_base.name".to_owned()),
        "opening.branch_id" => Some("branch_id".to_owned()),
        "opening.quantity" => Some("qty_begin_stock".to_owned()),
        "extra1" => Some("product_custom_field1".to_owned()),
        "extra2" => Some("product_custom_field2".to_owned()),
        "low_stock_at" => Some("qty_warning_stock".to_owned()),
        _ => None,
    }
}

async fn product_put(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Status>, NxError> {
    let seq = id_of(&id, "product")?;
    let old: Product = s
        .crm
        .by_seq(&actor, seq)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "product not found"))?;
    let p: ProductIn = parse_ci(&body)?;
    let data = product_data(&p, Some(&old));
    s.crm
        .update::<Product>(&actor, old.id, data)
        .await
        .map_err(|e| e.map_field(|f| product_wire_field(f, &p)))?;
    Ok(ok_flat("Product updated successfully"))
}

/// A product's units as NextX lists them: the base unit (multiplier 1) then the others.
pub(super) async fn units_out(
    s: &AppState,
    actor: &Actor,
    p: &Product,
) -> Result<Vec<UnitOut>, NxError> {
    let mut out = Vec::new();
    if let Some(u) = p.data.unit_id {
        out.push(UnitOut {
            id: u,
            name: p.data.unit_name.clone(),
            is_base_unit: 1,
            multiplier: 1.into(),
            price: p.data.retail_price,
        });
    }
    for u in s.crm.product_units(actor, p.id).await? {
        out.push(UnitOut {
            id: u.unit_id,
            name: u.unit_name,
            is_base_unit: 0,
            multiplier: Number::from_f64(u.rate).unwrap_or_else(|| 0.into()),
            price: u.retail_price,
        });
    }
    Ok(out)
}

pub(super) async fn products(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<ProductRow>>, NxError> {
    let p = Params::parse(q)?;
    let branch = p
        .int("branch_id")?
        .ok_or_else(|| bad("branch_id", "is required"))?;
    s.crm.branch(&actor, branch).await?;
    let store = p.int("store_id")?;
    let page = p.page()?;
    let kinds = p.all("type");
    let mut filter = Filter::all().and(p.search().and_then(|t| Filter::text(None, &t)));
    filter = filter.and(Filter::any_of(
        Field::Kind,
        kinds
            .into_iter()
            .map(crm_domain::search::Value::Text)
            .collect(),
    ));
    let found = s.crm.search::<Product>(&actor, &filter, page).await?;
    let ids: Vec<_> = found.items.iter().map(|x| x.id).collect();
    let stock: HashMap<_, _> = s
        .crm
        .stock(&actor, &ids, Some(branch), store)
        .await?
        .into_iter()
        .collect();
    let cats = s.crm.categories(&actor).await?;
    let rows = found
        .items
        .iter()
        .map(|x| {
            let ext = x.data.ext.clone().unwrap_or_default();
            ProductRow {
                id: x.seq,
                product_id: x.seq,
                variations_id: x.seq,
                product_fullname: x.data.name.clone(),
                product_code: x.data.code.clone(),
                barcode: ext.sku.clone().or(x.data.code.clone()),
                product_image: x.data.image.clone(),
                qty_available: stock.get(&x.id).copied().unwrap_or(0.0),
                unit: x.data.unit_name.clone(),
                selling_price: x.data.retail_price,
                brand_name: (),
                category_name: ext
                    .category_id
                    .and_then(|c| cats.iter().find(|k| k.id == c))
                    .map(|k| k.name.clone()),
                specification: ext.specification,
                product_type: ext.kind,
                weight: ext.weight,
                length: ext.length.to_string(),
                width: ext.width.to_string(),
                height: ext.height.to_string(),
                product_variation: Variation {
                    product_id: x.seq,
                    variations_id: Some(x.seq),
                    variations_dot_id: None,
                    unit_id: x.data.unit_id,
                    price: x.data.retail_price,
                },
            }
        })
        .collect();
    Ok(Json(rows))
}

async fn product_detail(
    State(s): State<AppState>,
    Caller(actor): Caller,
    RawQuery(q): RawQuery,
) -> Result<Json<ProductDetail>, NxError> {
    let p = Params::parse(q)?;
    let variation = p
        .int("variation_id")?
        .ok_or_else(|| bad("variation_id", "is required"))?;
    let branch = p.int("branch_id")?;
    let store = p.int("store_id")?;
    if let Some(b) = branch {
        s.crm.branch(&actor, b).await?;
    }
    let x: Product = s
        .crm
        .by_seq(&actor, variation)
        .await?
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "product not found"))?;
    let qty = s
        .crm
        .stock(&actor, &[x.id], branch, store)
        .await?
        .first()
        .map_or(0.0, |(_, q)| *q);
    let ext = x.data.ext.clone().unwrap_or_default();
    let units = units_out(&s, &actor, &x).await?;
    Ok(Json(ProductDetail {
        id: x.seq,
        product_id: x.seq,
        variations_id: x.seq,
        product_name: x.data.name.clone(),
        product_actual_name: x.data.name.clone(),
        product_code: x.data.code.clone(),
        product_sku: ext.sku.clone().or(x.data.code.clone()),
        product_image: x.data.image.clone(),
        qty_available: qty,
        qty_warning_stock: ext.low_stock_at,
        stock_warning: ext.low_stock_at > 0.0 && qty <= ext.low_stock_at,
        default_purchase_price: x.data.import_price,
        default_sell_price: x.data.retail_price,
        product_type: ext.kind,
        specification: ext.specification,
        height: ext.height.to_string(),
        width: ext.width.to_string(),
        length: ext.length.to_string(),
        weight: ext.weight.to_string(),
        computations: Variation {
            product_id: x.seq,
            variations_id: None,
            variations_dot_id: Some(x.seq),
            unit_id: x.data.unit_id,
            price: x.data.retail_price,
        },
        unit_id: x.data.unit_id.map(|u| u.to_string()),
        unit: x.data.unit_name,
        units,
    }))
}
