-- Documents are searched by the products on their lines (NextX strSearch, type[]).
CREATE INDEX doc_lines_product ON doc_lines (tenant_id, product_id);
