-- A Billora-like database of about 1 GB of dump text for the benchmarks: 300 tenants (tenant 1
-- holds ~10% of the rows, the others share the rest), customers with Thai names, products
-- with BLOBs, invoices, invoice items (no tenant column: reached through invoices), payments
-- and a JSON audit log. Built with MariaDB's sequence engine, deterministic.
SET NAMES utf8mb4;
SET SESSION sql_log_bin = 0;
SET SESSION unique_checks = 0, foreign_key_checks = 0;

CREATE TABLE tenants (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE customers (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  tenant_id INT UNSIGNED NOT NULL,
  name VARCHAR(200) NOT NULL,
  email VARCHAR(200) NULL,
  note TEXT NULL,
  balance DECIMAL(14,2) NOT NULL,
  KEY idx_tenant (tenant_id),
  CONSTRAINT fk_c_t FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE products (
  id INT UNSIGNED NOT NULL PRIMARY KEY,
  tenant_id INT UNSIGNED NOT NULL,
  sku VARCHAR(40) NOT NULL,
  name VARCHAR(200) NOT NULL,
  price DECIMAL(14,2) NOT NULL,
  attrs JSON NULL,
  image BLOB NULL,
  KEY idx_tenant (tenant_id),
  CONSTRAINT fk_p_t FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE invoices (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  tenant_id INT UNSIGNED NOT NULL,
  customer_id BIGINT UNSIGNED NOT NULL,
  number VARCHAR(30) NOT NULL,
  issued_at DATETIME(6) NOT NULL,
  due_date DATE NOT NULL,
  total DECIMAL(14,2) NOT NULL,
  status ENUM('draft','sent','paid','void') NOT NULL,
  note VARCHAR(255) NULL,
  KEY idx_tenant (tenant_id),
  CONSTRAINT fk_i_t FOREIGN KEY (tenant_id) REFERENCES tenants (id),
  CONSTRAINT fk_i_c FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE invoice_items (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  invoice_id BIGINT UNSIGNED NOT NULL,
  product_id INT UNSIGNED NOT NULL,
  description VARCHAR(200) NOT NULL,
  qty INT NOT NULL,
  unit_price DECIMAL(14,2) NOT NULL,
  line_total DECIMAL(14,2) NOT NULL,
  KEY idx_invoice (invoice_id),
  CONSTRAINT fk_ii_i FOREIGN KEY (invoice_id) REFERENCES invoices (id),
  CONSTRAINT fk_ii_p FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE payments (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  invoice_id BIGINT UNSIGNED NOT NULL,
  amount DECIMAL(14,2) NOT NULL,
  paid_at DATETIME(6) NOT NULL,
  method ENUM('cash','transfer','card','qr') NOT NULL,
  KEY idx_invoice (invoice_id),
  CONSTRAINT fk_pay_i FOREIGN KEY (invoice_id) REFERENCES invoices (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE audit_log (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  tenant_id INT UNSIGNED NOT NULL,
  action VARCHAR(50) NOT NULL,
  data JSON NOT NULL,
  at TIMESTAMP(6) NOT NULL,
  KEY idx_tenant (tenant_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- tenant_of(n): tenant 1 for every 10th row, else one of 2..300.
INSERT INTO tenants SELECT seq, CONCAT('บริษัท ลูกค้า ', seq, ' จำกัด'), '2024-01-01 00:00:00' + INTERVAL seq HOUR FROM seq_1_to_300;

INSERT INTO customers
SELECT seq, IF(seq % 10 = 0, 1, 2 + seq % 299),
       CONCAT('คุณ สมชาย ใจดี ', seq), CONCAT('customer', seq, '@example.co.th'),
       IF(seq % 3 = 0, NULL, CONCAT('หมายเหตุ ลูกค้า ', seq, ' — ', REPEAT('ข้อมูล', 1 + seq % 5))),
       (seq % 100000) / 100
FROM seq_1_to_200000;

INSERT INTO products
SELECT seq, IF(seq % 10 = 0, 1, 2 + seq % 299), CONCAT('SKU-', seq), CONCAT('สินค้า ', seq),
       (seq % 5000) + 0.99, JSON_OBJECT('color', ELT(1 + seq % 3, 'แดง', 'เขียว', 'blue'), 'w', seq % 17),
       UNHEX(SHA2(seq, 256))
FROM seq_1_to_50000;

INSERT INTO invoices
SELECT seq, IF(seq % 10 = 0, 1, 2 + seq % 299), 1 + (seq * 7) % 200000, CONCAT('INV-', LPAD(seq, 9, '0')),
       '2025-01-01 08:00:00' + INTERVAL (seq * 13) SECOND, '2025-02-01' + INTERVAL (seq % 365) DAY,
       (seq % 1000000) / 100, ELT(1 + seq % 4, 'draft', 'sent', 'paid', 'void'),
       IF(seq % 4 = 0, CONCAT('ชำระภายใน ', seq % 60, ' วัน'), NULL)
FROM seq_1_to_1000000;

INSERT INTO invoice_items
SELECT seq, 1 + (seq - 1) DIV 4, 1 + seq % 50000, CONCAT('รายการสินค้า หมายเลข ', seq % 9973),
       1 + seq % 9, (seq % 20000) / 100, ((1 + seq % 9) * (seq % 20000)) / 100
FROM seq_1_to_4000000;

INSERT INTO payments
SELECT seq, 1 + (seq * 5) % 1000000, (seq % 500000) / 100, '2025-03-01 00:00:00' + INTERVAL seq SECOND,
       ELT(1 + seq % 4, 'cash', 'transfer', 'card', 'qr')
FROM seq_1_to_800000;

INSERT INTO audit_log
SELECT seq, IF(seq % 10 = 0, 1, 2 + seq % 299), ELT(1 + seq % 3, 'create', 'update', 'login'),
       JSON_OBJECT('user', CONCAT('user', seq % 977), 'ip', CONCAT('10.0.', seq % 255, '.', seq % 253),
                   'detail', CONCAT('แก้ไขข้อมูลใบแจ้งหนี้ ', seq), 'n', seq),
       '2025-01-01 00:00:00' + INTERVAL seq SECOND
FROM seq_1_to_1000000;

CREATE TABLE bench_ready (done INT);
