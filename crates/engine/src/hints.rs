//! The "what to do" hints of engine errors, and runs' notes, in Thai.
//!
//! Errors are made in English (the CLI, logs and the HTTP API speak it), and the hint is the
//! part an office admin acts on, so every hint the engine or the app shell can give has a Thai
//! sentence here. `Error::with_hint` fills `hint_th` from this table, and a failed run's stored
//! hint is looked up when it is read, so a language switch applies to old runs too. A hint made
//! with `format!` is a template: each `{}` takes the value found at its place in the English
//! text. Commands, flags and setting names stay as they are typed. The test below reads the
//! sources and fails on any `with_hint` text missing from the table, so a new hint cannot ship
//! in English only.

/// (English template, Thai template); `{}` marks a value, in the same order in both.
const THAI: &[(&str, &str)] = &[
    (
        "give the address the daemon listens on, e.g. https://backup.example.com:8443/api",
        "ใส่ที่อยู่ที่เดมอนรอรับการเชื่อมต่อ เช่น https://backup.example.com:8443/api",
    ),
    (
        "use https:// (start the daemon with --tls-cert and --tls-key); plain http:// is for this computer only",
        "ใช้ https:// (เริ่มเดมอนด้วย --tls-cert และ --tls-key) ส่วน http:// ธรรมดาใช้ได้เฉพาะเครื่องนี้",
    ),
    (
        "update this app or the server so that both are the same version",
        "อัปเดตโปรแกรมนี้หรือเซิร์ฟเวอร์ให้เป็นรุ่นเดียวกัน",
    ),
    (
        "on the server, create an admin token (`billora-backup token create --name NAME --role admin`) and paste it here",
        "สร้างโทเคนผู้ดูแลบนเซิร์ฟเวอร์ (`billora-backup token create --name NAME --role admin`) แล้ววางที่นี่",
    ),
    (
        "a monitor token can only read metrics; create an admin token on the server",
        "โทเคน monitor อ่านได้เฉพาะค่าสถิติ ให้สร้างโทเคน admin บนเซิร์ฟเวอร์",
    ),
    (
        "wait a minute, then try again with the right token",
        "รอหนึ่งนาที แล้วลองอีกครั้งด้วยโทเคนที่ถูกต้อง",
    ),
    (
        "give the address with the API's base path, e.g. https://host:8443/api",
        "ใส่ที่อยู่พร้อมเส้นทางฐานของ API เช่น https://host:8443/api",
    ),
    (
        "check the address: it should be the daemon's --listen address with its base path",
        "ตรวจสอบที่อยู่: ต้องเป็นที่อยู่ --listen ของเดมอนพร้อมเส้นทางฐาน",
    ),
    (
        "if the server's certificate was replaced on purpose (ask whoever runs it to confirm the new fingerprint), accept it under Settings → Manage a server → Accept the new certificate; otherwise someone may be intercepting the connection",
        "ถ้าใบรับรองของเซิร์ฟเวอร์ถูกเปลี่ยนโดยตั้งใจ (ให้ผู้ดูแลเซิร์ฟเวอร์ยืนยันลายนิ้วมือใหม่) ให้ยอมรับที่ ตั้งค่า → จัดการเซิร์ฟเวอร์ → ยอมรับใบรับรองใหม่ ถ้าไม่ใช่ อาจมีผู้ดักการเชื่อมต่ออยู่",
    ),
    (
        "check that the address is the daemon's and that it serves HTTPS there",
        "ตรวจสอบว่าที่อยู่เป็นของเดมอน และเดมอนให้บริการ HTTPS ที่นั่น",
    ),
    (
        "check the address and the network, and that `billora-backup daemon --listen` runs on that server",
        "ตรวจสอบที่อยู่และเครือข่าย และว่า `billora-backup daemon --listen` ทำงานอยู่บนเซิร์ฟเวอร์นั้น",
    ),
    (
        "choose another name, or remove the old one first",
        "เลือกชื่ออื่น หรือลบรายการเดิมก่อน",
    ),
    (
        "remove the server and add it again",
        "ลบเซิร์ฟเวอร์นี้แล้วเพิ่มใหม่",
    ),
    (
        "remove the server and add it again with an admin token",
        "ลบเซิร์ฟเวอร์นี้แล้วเพิ่มใหม่พร้อมโทเคนผู้ดูแล",
    ),
    (
        "switch to This computer first (the switcher above the menu)",
        "สลับไปที่ “เครื่องนี้” ก่อน (ตัวเลือกเหนือเมนู)",
    ),
    (
        "add it under Settings → Manage a server",
        "เพิ่มได้ที่ ตั้งค่า → จัดการเซิร์ฟเวอร์",
    ),
    (
        "check the SSH host and port (22 by default), and that this computer can reach the SSH server",
        "ตรวจสอบโฮสต์และพอร์ตของ SSH (ปกติคือ 22) และว่าเครื่องนี้เชื่อมต่อถึงเซิร์ฟเวอร์ SSH ได้",
    ),
    (
        "choose the private key file (for example ~/.ssh/id_ed25519), not its .pub",
        "เลือกไฟล์กุญแจส่วนตัว (เช่น ~/.ssh/id_ed25519) ไม่ใช่ไฟล์ .pub",
    ),
    (
        "choose a key file, or enter the SSH password (kept in the keyring)",
        "เลือกไฟล์กุญแจ หรือใส่รหัสผ่าน SSH (เก็บไว้ในที่เก็บรหัสผ่านของระบบ)",
    ),
    (
        "enter the key's passphrase (kept in the keyring)",
        "ใส่วลีรหัสผ่านของกุญแจ (เก็บไว้ในที่เก็บรหัสผ่านของระบบ)",
    ),
    ("enter the key's passphrase again", "ใส่วลีรหัสผ่านของกุญแจอีกครั้ง"),
    (
        "use an OpenSSH private key (ed25519, ECDSA or RSA), for example made by `ssh-keygen -t ed25519`",
        "ใช้กุญแจส่วนตัวแบบ OpenSSH (ed25519, ECDSA หรือ RSA) เช่น ที่สร้างด้วย `ssh-keygen -t ed25519`",
    ),
    (
        "check the SSH user name, and that the key's public half (the .pub file) is in that user's ~/.ssh/authorized_keys on the SSH server",
        "ตรวจสอบชื่อผู้ใช้ SSH และว่ากุญแจสาธารณะ (ไฟล์ .pub) อยู่ใน ~/.ssh/authorized_keys ของผู้ใช้นั้นบนเซิร์ฟเวอร์ SSH",
    ),
    (
        "check the SSH user name and password (many servers accept only keys: then choose a key file)",
        "ตรวจสอบชื่อผู้ใช้และรหัสผ่าน SSH (หลายเซิร์ฟเวอร์รับเฉพาะกุญแจ ในกรณีนั้นให้เลือกไฟล์กุญแจ)",
    ),
    (
        "give the database's host and port as the SSH server sees them (often 127.0.0.1 and 3306), and check that the SSH server allows TCP forwarding (AllowTcpForwarding)",
        "ใส่โฮสต์และพอร์ตของฐานข้อมูลตามที่เซิร์ฟเวอร์ SSH มองเห็น (มักเป็น 127.0.0.1 และ 3306) และตรวจสอบว่าเซิร์ฟเวอร์ SSH อนุญาตการส่งต่อ TCP (AllowTcpForwarding)",
    ),
    (
        "if the SSH server was reinstalled or its key replaced on purpose (ask whoever runs it to confirm the new fingerprint), accept it with {}; otherwise someone may be intercepting the connection",
        "ถ้าเซิร์ฟเวอร์ SSH ถูกติดตั้งใหม่หรือเปลี่ยนกุญแจโดยตั้งใจ (ให้ผู้ดูแลเซิร์ฟเวอร์ยืนยันลายนิ้วมือใหม่) ให้ยอมรับด้วย {} มิฉะนั้นอาจมีผู้ดักฟังการเชื่อมต่ออยู่",
    ),
    ("`billora-backup connection list` shows them", "ดูรายการได้ด้วย `billora-backup connection list`"),
    ("`billora-backup destination list` shows them", "ดูรายการได้ด้วย `billora-backup destination list`"),
    ("`billora-backup schedule list` shows the ids", "ดูหมายเลขได้ด้วย `billora-backup schedule list`"),
    (
        "a dump with raw binary strings (mysqldump without --hex-blob) must be restored with the mysql client",
        "ไฟล์ dump ที่มีข้อมูลไบนารีดิบ (mysqldump ที่ไม่ได้ใช้ --hex-blob) ต้องกู้คืนด้วยโปรแกรม mysql",
    ),
    (
        "a few unrelated words make a passphrase that is long and easy to remember",
        "ใช้คำที่ไม่เกี่ยวกันหลายคำ จะได้รหัสผ่านที่ยาวและจำง่าย",
    ),
    (
        "a public key starts with age1; create one with `billora-backup key generate`",
        "กุญแจสาธารณะขึ้นต้นด้วย age1 สร้างได้ด้วย `billora-backup key generate`",
    ),
    (
        "a restore writes only into the database you chose; remove that statement from the file (or restore it with the mysql client, if you trust it)",
        "การกู้คืนเขียนได้เฉพาะฐานข้อมูลที่เลือกไว้ ให้ลบคำสั่งนั้นออกจากไฟล์ (หรือกู้คืนด้วยโปรแกรม mysql หากไว้ใจไฟล์นี้)",
    ),
    (
        "add a new destination for the new place, and change the schedules to it",
        "เพิ่มปลายทางใหม่สำหรับที่เก็บใหม่ แล้วเปลี่ยนตารางเวลาให้ใช้ปลายทางนั้น",
    ),
    (
        "add a new destination of the other kind, and change the schedules to it",
        "เพิ่มปลายทางใหม่ชนิดที่ต้องการ แล้วเปลี่ยนตารางเวลาให้ใช้ปลายทางนั้น",
    ),
    (
        "add it first (Destinations, or `billora-backup destination add`)",
        "เพิ่มปลายทางก่อน (หน้าปลายทาง หรือ `billora-backup destination add`)",
    ),
    (
        "add it first with `billora-backup connection add`, or leave connection empty",
        "เพิ่มการเชื่อมต่อก่อนด้วย `billora-backup connection add` หรือเว้นช่องการเชื่อมต่อไว้",
    ),
    ("add one with `billora-backup connection add`", "เพิ่มการเชื่อมต่อด้วย `billora-backup connection add`"),
    ("add the connection again with its password", "เพิ่มการเชื่อมต่อนี้ใหม่พร้อมรหัสผ่าน"),
    (
        "ask the administrator for a token: `billora-backup token create`",
        "ขอโทเคนจากผู้ดูแลระบบ: `billora-backup token create`",
    ),
    ("change or delete those schedules first", "แก้ไขหรือลบตารางเวลาเหล่านั้นก่อน"),
    ("check that the SSH account owns the destination folder", "ตรวจสอบว่าบัญชี SSH เป็นเจ้าของโฟลเดอร์ปลายทาง"),
    ("check that the parent folder exists and is writable", "ตรวจสอบว่าโฟลเดอร์แม่มีอยู่และเขียนได้"),
    (
        "check that the server is running and the host and port are right",
        "ตรวจสอบว่าเซิร์ฟเวอร์ทำงานอยู่ และโฮสต์กับพอร์ตถูกต้อง",
    ),
    (
        "check the CA file and the host name, or choose TLS mode pinned to trust the server's certificate",
        "ตรวจสอบไฟล์ CA และชื่อโฮสต์ หรือเลือกโหมด TLS แบบ pinned เพื่อเชื่อถือใบรับรองของเซิร์ฟเวอร์นี้",
    ),
    (
        "check the access key or password and that this account may write to the bucket or folder",
        "ตรวจสอบ access key หรือรหัสผ่าน และว่าบัญชีนี้มีสิทธิ์เขียนใน bucket หรือโฟลเดอร์",
    ),
    (
        "check the bucket, folder or address in the destination's settings",
        "ตรวจสอบ bucket โฟลเดอร์ หรือที่อยู่ในการตั้งค่าปลายทาง",
    ),
    ("check the database name of the connection", "ตรวจสอบชื่อฐานข้อมูลของการเชื่อมต่อ"),
    ("check the destination's settings", "ตรวจสอบการตั้งค่าปลายทาง"),
    (
        "check the destination's settings with Test, then try again",
        "ตรวจสอบการตั้งค่าปลายทางด้วยปุ่มทดสอบ แล้วลองอีกครั้ง",
    ),
    (
        "check the mail settings with `billora-backup notify test-email ADDRESS`",
        "ตรวจสอบการตั้งค่าอีเมลด้วย `billora-backup notify test-email ADDRESS`",
    ),
    (
        "check the network and that the server is running; the run is retried",
        "ตรวจสอบเครือข่ายและว่าเซิร์ฟเวอร์ทำงานอยู่ ระบบจะลองใหม่อีกครั้ง",
    ),
    (
        "check the network, the address and port, and that the server is running",
        "ตรวจสอบเครือข่าย ที่อยู่และพอร์ต และว่าเซิร์ฟเวอร์ทำงานอยู่",
    ),
    (
        "check the network; Google Drive must be reachable from this computer",
        "ตรวจสอบเครือข่าย คอมพิวเตอร์เครื่องนี้ต้องเข้าถึง Google Drive ได้",
    ),
    ("check the user name and password of the connection", "ตรวจสอบชื่อผู้ใช้และรหัสผ่านของการเชื่อมต่อ"),
    (
        "choose TLS mode pinned, verify-ca or verify-identity, so the server is verified before the password is sent",
        "เลือกโหมด TLS แบบ pinned, verify-ca หรือ verify-identity เพื่อยืนยันเซิร์ฟเวอร์ก่อนส่งรหัสผ่าน",
    ),
    ("choose another name", "เลือกชื่ออื่น"),
    ("choose another port, or stop what uses it", "เลือกพอร์ตอื่น หรือหยุดโปรแกรมที่ใช้พอร์ตนี้อยู่"),
    ("connect again and choose Allow", "เชื่อมต่ออีกครั้งแล้วเลือกอนุญาต (Allow)"),
    (
        "connect the destination to Google again (remove it and add it again)",
        "เชื่อมต่อปลายทางกับ Google ใหม่ (ลบปลายทางแล้วเพิ่มใหม่)",
    ),
    (
        "convert the file to utf8mb4 (for example with iconv) and restore it again",
        "แปลงไฟล์เป็น utf8mb4 (เช่น ด้วย iconv) แล้วกู้คืนอีกครั้ง",
    ),
    (
        "enable TLS on the database server (MariaDB and MySQL: ssl_cert and ssl_key), or, only on a network you trust, set the connection's TLS mode to disabled",
        "เปิด TLS ที่เซิร์ฟเวอร์ฐานข้อมูล (MariaDB และ MySQL: ssl_cert และ ssl_key) หรือตั้งโหมด TLS ของการเชื่อมต่อเป็น disabled เฉพาะบนเครือข่ายที่ไว้ใจได้",
    ),
    (
        "enable TLS on the server, or, only on a network you trust, set the connection's TLS mode to disabled",
        "เปิด TLS ที่เซิร์ฟเวอร์ หรือตั้งโหมด TLS ของการเชื่อมต่อเป็น disabled เฉพาะบนเครือข่ายที่ไว้ใจได้",
    ),
    (
        "for other computers, run `billora-backup daemon --listen` with --tls-cert and --tls-key",
        "สำหรับคอมพิวเตอร์เครื่องอื่น ให้รัน `billora-backup daemon --listen` พร้อม --tls-cert และ --tls-key",
    ),
    (
        "free some space or choose another backup folder; no partial file was kept",
        "เพิ่มพื้นที่ว่าง หรือเลือกโฟลเดอร์สำรองข้อมูลอื่น ไม่มีไฟล์ที่ไม่สมบูรณ์เหลือค้างไว้",
    ),
    (
        "free some space there, keep fewer backups (retention), or choose another folder",
        "เพิ่มพื้นที่ว่างที่นั่น เก็บไฟล์สำรองให้น้อยลง (การเก็บรักษา) หรือเลือกโฟลเดอร์อื่น",
    ),
    (
        "give a full path such as /srv/backups, or leave it empty for the default folder",
        "ใส่พาธเต็ม เช่น /srv/backups หรือเว้นว่างเพื่อใช้โฟลเดอร์เริ่มต้น",
    ),
    (
        "give its recovery key file (--identity FILE) or its passphrase (--passphrase-stdin), or restore on the machine that holds the key",
        "ระบุไฟล์กุญแจกู้คืน (--identity FILE) หรือรหัสผ่าน (--passphrase-stdin) หรือกู้คืนบนเครื่องที่มีกุญแจ",
    ),
    (
        "give the CA file that signed the server's certificate, connect by the host name the certificate names, or choose TLS mode pinned to trust this certificate (compare its fingerprint with the server's first)",
        "ระบุไฟล์ CA ที่ลงนามใบรับรองของเซิร์ฟเวอร์ เชื่อมต่อด้วยชื่อโฮสต์ที่ระบุในใบรับรอง หรือเลือกโหมด TLS แบบ pinned เพื่อเชื่อถือใบรับรองนี้ (เทียบลายนิ้วมือกับของเซิร์ฟเวอร์ก่อน)",
    ),
    (
        "give the password through an environment variable or a private file (--password-env / --password-file)",
        "ส่งรหัสผ่านทางตัวแปรสภาพแวดล้อมหรือไฟล์ส่วนตัว (--password-env / --password-file)",
    ),
    ("give the schedule a name, e.g. Daily Full Backup", "ตั้งชื่อตารางเวลา เช่น สำรองทั้งหมดรายวัน"),
    (
        "give the schedule's passphrase (--passphrase-stdin), exactly as it was set",
        "ใส่รหัสผ่านของตารางเวลา (--passphrase-stdin) ให้ตรงกับที่ตั้งไว้ทุกตัวอักษร",
    ),
    (
        "grant SHOW VIEW, TRIGGER and EVENT, and for routines SELECT on mysql.proc (MariaDB) or SHOW_ROUTINE",
        "ให้สิทธิ์ SHOW VIEW, TRIGGER และ EVENT และสำหรับ routine ให้สิทธิ์ SELECT บน mysql.proc (MariaDB) หรือ SHOW_ROUTINE",
    ),
    (
        "grant the user SELECT, SHOW VIEW, TRIGGER, EVENT and LOCK TABLES on the database",
        "ให้สิทธิ์ผู้ใช้ SELECT, SHOW VIEW, TRIGGER, EVENT และ LOCK TABLES บนฐานข้อมูล",
    ),
    (
        "if the server's certificate was replaced on purpose (ask whoever runs it to confirm the new fingerprint), accept it with {}; otherwise someone may be intercepting the connection",
        "ถ้าใบรับรองของเซิร์ฟเวอร์ถูกเปลี่ยนโดยตั้งใจ (ให้ผู้ดูแลเซิร์ฟเวอร์ยืนยันลายนิ้วมือใหม่) ให้ยอมรับด้วย {} มิฉะนั้นอาจมีผู้ดักฟังการเชื่อมต่ออยู่",
    ),
    ("leave it empty for no limit", "เว้นว่างไว้หากไม่ต้องการจำกัด"),
    ("make the folder writable for this user, or choose another folder", "ให้ผู้ใช้นี้เขียนโฟลเดอร์ได้ หรือเลือกโฟลเดอร์อื่น"),
    ("no password for this connection is in the keyring yet", "ยังไม่มีรหัสผ่านของการเชื่อมต่อนี้ในที่เก็บรหัสผ่าน"),
    ("on the command line pass it on stdin with --secret-stdin", "บนบรรทัดคำสั่ง ให้ส่งทาง stdin ด้วย --secret-stdin"),
    ("only backups made by Billora Backup can be verified", "ตรวจสอบได้เฉพาะไฟล์สำรองที่สร้างโดย Billora Backup"),
    (
        "only one may run per data directory, so no backup is made twice; stop the other one first",
        "แต่ละโฟลเดอร์ข้อมูลรันได้ทีละโปรแกรม เพื่อไม่ให้สำรองซ้ำ ให้หยุดอีกโปรแกรมหนึ่งก่อน",
    ),
    ("pass --data-dir DIR or set {}", "ใช้ --data-dir DIR หรือตั้งค่า {}"),
    ("pass it on stdin with --password-stdin", "ส่งทาง stdin ด้วย --password-stdin"),
    (
        "put a user name and password in their own fields, not in the address",
        "ใส่ชื่อผู้ใช้และรหัสผ่านในช่องของมันเอง ไม่ใช่ในที่อยู่",
    ),
    (
        "raise max_allowed_packet on the server, or split the statement in the file",
        "เพิ่มค่า max_allowed_packet ที่เซิร์ฟเวอร์ หรือแบ่งคำสั่งในไฟล์ให้เล็กลง",
    ),
    (
        "remove Billora Backup's access in your Google account and connect again",
        "ยกเลิกสิทธิ์ของ Billora Backup ในบัญชี Google แล้วเชื่อมต่อใหม่",
    ),
    ("remove it first, or choose another name", "ลบรายการเดิมก่อน หรือเลือกชื่ออื่น"),
    ("remove tenant_id, or use backup_type tenant", "ลบ tenant_id ออก หรือใช้ backup_type tenant"),
    ("leave the databases empty, or use backup_type full", "เว้นช่องฐานข้อมูลว่างไว้ หรือใช้ backup_type full"),
    ("give either `*` or a list of names", "ใส่ `*` อย่างเดียว หรือใส่รายชื่อฐานข้อมูล อย่างใดอย่างหนึ่ง"),
    ("grant the user access to the databases to back up, or list them by name", "ให้สิทธิ์ผู้ใช้เข้าถึงฐานข้อมูลที่จะสำรอง หรือระบุชื่อฐานข้อมูลเอง"),
    ("choose the backup of one database, by its own entry", "เลือกข้อมูลสำรองของฐานข้อมูลเดียว จากรายการของฐานข้อมูลนั้นเอง"),
    ("remove the destination and add it again", "ลบปลายทางแล้วเพิ่มใหม่"),
    ("remove the destination and add it again with its secret", "ลบปลายทางแล้วเพิ่มใหม่พร้อมรหัสลับ"),
    ("restore again with --inserts, and report this", "กู้คืนอีกครั้งด้วย --inserts และแจ้งปัญหานี้ให้เราทราบ"),
    (
        "restore into a new database name, or pass --force to overwrite its tables",
        "กู้คืนไปยังฐานข้อมูลชื่อใหม่ หรือใช้ --force เพื่อเขียนทับตาราง",
    ),
    (
        "restore the tenant backup into a new database and copy what you need, or replace anyway with --force (the app asks first)",
        "กู้คืนไฟล์สำรองของ tenant ไปยังฐานข้อมูลใหม่แล้วคัดลอกส่วนที่ต้องการ หรือแทนที่ด้วย --force (แอปจะถามก่อน)",
    ),
    (
        "revoke it first (`billora-backup token revoke NAME`), or choose another name",
        "เพิกถอนโทเคนเดิมก่อน (`billora-backup token revoke NAME`) หรือเลือกชื่ออื่น",
    ),
    ("run: chmod 600 {}", "รันคำสั่ง: chmod 600 {}"),
    (
        "set it in the schedule editor, or `billora-backup schedule passphrase {} --passphrase-stdin`",
        "ตั้งค่าในหน้าแก้ไขตารางเวลา หรือ `billora-backup schedule passphrase {} --passphrase-stdin`",
    ),
    (
        "set tenant_id to the tenant's number, or use backup_type full",
        "ตั้ง tenant_id เป็นหมายเลขของ tenant หรือใช้ backup_type full",
    ),
    (
        "set the connection's tenant column and root table to match your schema",
        "ตั้งคอลัมน์ tenant และตารางหลักของการเชื่อมต่อให้ตรงกับโครงสร้างฐานข้อมูล",
    ),
    (
        "set up the mail server in Settings (or `billora-backup settings smtp set`)",
        "ตั้งค่าเซิร์ฟเวอร์อีเมลในหน้าตั้งค่า (หรือ `billora-backup settings smtp set`)",
    ),
    ("set {} for the process that runs backups", "ตั้งค่า {} ให้โปรแกรมที่รันการสำรองข้อมูล"),
    ("take it out of those schedules first", "นำออกจากตารางเวลาเหล่านั้นก่อน"),
    (
        "the data directory may belong to a newer version of Billora Backup",
        "โฟลเดอร์ข้อมูลนี้อาจเป็นของ Billora Backup รุ่นที่ใหม่กว่า",
    ),
    (
        "the manifest was changed after the backup: use the local copy or another destination",
        "ไฟล์ manifest ถูกแก้ไขหลังการสำรองข้อมูล ให้ใช้สำเนาในเครื่องหรือปลายทางอื่น",
    ),
    (
        "the next run tries again; if this repeats, send the log file to support",
        "รอบถัดไปจะลองใหม่ ถ้าเกิดซ้ำ ให้ส่งไฟล์บันทึก (log) ให้ฝ่ายสนับสนุน",
    ),
    ("the service is busy; the next run tries again", "บริการไม่ว่างอยู่ รอบถัดไปจะลองใหม่"),
    (
        "try again, and allow access in the browser window that opens",
        "ลองอีกครั้ง และอนุญาตการเข้าถึงในหน้าต่างเบราว์เซอร์ที่เปิดขึ้น",
    ),
    ("try another destination, or the local copy", "ลองปลายทางอื่น หรือสำเนาในเครื่อง"),
    (
        "unlock your keyring (on Linux: GNOME Keyring or KWallet must be running), or on a headless server give the password through an environment variable or a private file (--password-env / --password-file)",
        "ปลดล็อกที่เก็บรหัสผ่าน (บน Linux ต้องมี GNOME Keyring หรือ KWallet ทำงานอยู่) หรือบนเซิร์ฟเวอร์ที่ไม่มีหน้าจอ ให้ส่งรหัสผ่านทางตัวแปรสภาพแวดล้อมหรือไฟล์ส่วนตัว (--password-env / --password-file)",
    ),
    ("unpin it first (Keep for ever off), then delete it", "ยกเลิกการเก็บถาวรก่อน (ปิด เก็บไว้ตลอดไป) แล้วจึงลบ"),
    ("use an IANA name such as Asia/Bangkok or UTC", "ใช้ชื่อแบบ IANA เช่น Asia/Bangkok หรือ UTC"),
    (
        "use an IANA name such as Asia/Bangkok, Europe/London or UTC",
        "ใช้ชื่อแบบ IANA เช่น Asia/Bangkok, Europe/London หรือ UTC",
    ),
    ("use another backup; this file is damaged or incomplete", "ใช้ไฟล์สำรองอื่น ไฟล์นี้เสียหายหรือไม่สมบูรณ์"),
    ("use starttls (port 587) or tls (port 465)", "ใช้ starttls (พอร์ต 587) หรือ tls (พอร์ต 465)"),
    ("use that process, or stop it and restart the app", "ใช้โปรแกรมนั้น หรือหยุดโปรแกรมนั้นแล้วเปิดแอปใหม่"),
    // The units check_range is given, before the general form.
    ("use {}-{} days, or leave it empty for no limit", "ใช้ {}-{} วัน หรือเว้นว่างไว้หากไม่ต้องการจำกัด"),
    ("use {}-{} backups, or leave it empty for no limit", "ใช้ {}-{} ไฟล์ หรือเว้นว่างไว้หากไม่ต้องการจำกัด"),
    ("use {}-{} weeks, or leave it empty for no limit", "ใช้ {}-{} สัปดาห์ หรือเว้นว่างไว้หากไม่ต้องการจำกัด"),
    ("use {}-{} months, or leave it empty for no limit", "ใช้ {}-{} เดือน หรือเว้นว่างไว้หากไม่ต้องการจำกัด"),
    ("use {}-{} years, or leave it empty for no limit", "ใช้ {}-{} ปี หรือเว้นว่างไว้หากไม่ต้องการจำกัด"),
    ("use {}-{} {}, or leave it empty for no limit", "ใช้ {}-{} {} หรือเว้นว่างไว้หากไม่ต้องการจำกัด"),
    ("wait for it to finish, or cancel it", "รอให้เสร็จ หรือยกเลิก"),
    ("wait for it to finish, or cancel it where it runs", "รอให้เสร็จ หรือยกเลิกที่โปรแกรมที่กำลังทำงานอยู่"),
    (
        "write addresses like admin@example.com, separated by commas",
        "เขียนที่อยู่อีเมลแบบ admin@example.com คั่นด้วยเครื่องหมายจุลภาค",
    ),
    ("write it like 2026-02-03T02:00:00+07:00", "เขียนแบบ 2026-02-03T02:00:00+07:00"),
];

/// A run's notes (why it ran or was skipped, retries, the size warning, a clock change), one
/// per line, as English templates with their Thai. The producers' tests below make each from
/// the code that writes it, so a changed sentence fails here.
const NOTES: &[(&str, &str)] = &[
    ("catch-up of the {} on {} slot", "สำรองย้อนหลังของรอบ {} วันที่ {}"),
    (
        "the {} on {} slot was skipped: the previous backup is still running",
        "ข้ามรอบ {} วันที่ {} เพราะการสำรองข้อมูลครั้งก่อนยังทำงานอยู่",
    ),
    (
        "the {} on {} slot was missed and catch-up is off",
        "พลาดรอบ {} วันที่ {} และปิดการสำรองย้อนหลังไว้",
    ),
    ("try {} failed ({}: {}); retrying", "ครั้งที่ {} ไม่สำเร็จ ({}: {}) กำลังลองใหม่"),
    (
        "possibly incomplete dump: {} bytes is under half the median size ({} bytes) of the last {} good backups; check that every table is still there (Verify runs a test restore)",
        "ไฟล์สำรองอาจไม่ครบ: {} ไบต์ น้อยกว่าครึ่งหนึ่งของขนาดกลาง ({} ไบต์) ของไฟล์สำรองที่ดี {} ครั้งล่าสุด ตรวจสอบว่าตารางยังอยู่ครบ (ปุ่มตรวจสอบจะทดลองกู้คืนให้)",
    ),
    (
        "the computer's clock moved back by {} (from {} to {}); the next run was recomputed",
        "นาฬิกาของเครื่องถอยหลัง {} (จาก {} เป็น {}) คำนวณรอบถัดไปใหม่แล้ว",
    ),
    (
        "schedule {} is already running ({}), started {} by {}, pid {}",
        "ตารางเวลา {} กำลังทำงานอยู่ ({}) เริ่มเมื่อ {} โดย {} pid {}",
    ),
    (
        "schedule {} is already running in another process",
        "ตารางเวลา {} กำลังทำงานอยู่ในโปรแกรมอื่น",
    ),
];

/// A run's note in Thai, line by line; `None` when no line has a Thai sentence (a line
/// without one stays as it is).
pub fn note_in_thai(note: &str) -> Option<String> {
    let mut any = false;
    let lines: Vec<String> = note
        .lines()
        .map(
            |line| match NOTES.iter().find_map(|(en, th)| fill(en, th, line)) {
                Some(thai) => {
                    any = true;
                    thai
                }
                None => line.to_owned(),
            },
        )
        .collect();
    any.then(|| lines.join("\n"))
}

/// The Thai sentence for an English hint, or `None` when the table has none.
pub fn in_thai(hint: &str) -> Option<String> {
    THAI.iter().find_map(|(en, th)| fill(en, th, hint))
}

/// Matches `text` against the English template `en` and, if it fits, puts the values found
/// at its `{}` places into the Thai template `th`, in order.
fn fill(en: &str, th: &str, text: &str) -> Option<String> {
    let parts: Vec<&str> = en.split("{}").collect();
    if parts.len() == 1 {
        return (en == text).then(|| th.to_owned());
    }
    let mut rest = text.strip_prefix(parts[0])?;
    let mut values = Vec::with_capacity(parts.len() - 1);
    for (i, part) in parts.iter().enumerate().skip(1) {
        let last = i == parts.len() - 1;
        let at = if last {
            // The last literal ends the text; an empty one takes the rest.
            rest.len()
                .checked_sub(part.len())
                .filter(|&at| rest[at..] == **part)?
        } else {
            rest.find(part)?
        };
        values.push(&rest[..at]);
        rest = &rest[at + part.len()..];
    }
    let mut out = String::with_capacity(th.len() + text.len());
    let mut values = values.into_iter();
    let mut pieces = th.split("{}");
    out.push_str(pieces.next().unwrap_or(""));
    for piece in pieces {
        out.push_str(values.next()?);
        out.push_str(piece);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{in_thai, note_in_thai, NOTES, THAI};
    use std::path::Path;

    #[test]
    fn templates_take_their_values_in_order() {
        assert_eq!(
            in_thai("run: chmod 600 /home/a/.pw").as_deref(),
            Some("รันคำสั่ง: chmod 600 /home/a/.pw"),
            "one value at the end"
        );
        assert_eq!(
            in_thai("use 1-100 hours, or leave it empty for no limit").as_deref(),
            Some("ใช้ 1-100 hours หรือเว้นว่างไว้หากไม่ต้องการจำกัด"),
            "three values, in order"
        );
        assert_eq!(
            in_thai("use 1-3650 days, or leave it empty for no limit").as_deref(),
            Some("ใช้ 1-3650 วัน หรือเว้นว่างไว้หากไม่ต้องการจำกัด"),
            "a known unit in Thai too"
        );
        assert_eq!(
            in_thai("choose another name").as_deref(),
            Some("เลือกชื่ออื่น"),
            "a sentence without values"
        );
        assert_eq!(
            in_thai("choose another name!"),
            None,
            "a longer text is not the template"
        );
        assert_eq!(in_thai("something new"), None, "unknown hints have no Thai");
    }

    /// Each note as the code that writes it makes it, in Thai.
    #[tokio::test]
    async fn every_kind_of_run_note_reads_in_thai() {
        use crate::scheduler::{decide, Decision};
        let dir = tempfile::tempdir().expect("a temp dir");
        let store = crate::store::Store::open(dir.path())
            .await
            .expect("a store");
        let request = crate::schedule::parse_request(
            r#"{"name":"n","cron_expression":"0 2 * * *","backup_type":"full","timezone":"Asia/Bangkok"}"#,
        )
        .expect("valid");
        let schedule = store
            .create_schedule(request, "2026-02-01T00:00:00Z".parse().expect("a time"))
            .await
            .expect("a schedule");
        let slot: jiff::Timestamp = "2026-02-02T19:00:00Z".parse().expect("a slot");
        let later = slot
            .checked_add(jiff::SignedDuration::from_hours(5))
            .expect("later");
        let mut notes = Vec::new();
        for (busy, catch_up) in [(true, false), (false, false), (false, true)] {
            let mut s = schedule.clone();
            s.catch_up = catch_up;
            match decide(&s, slot, later, jiff::SignedDuration::from_secs(60), busy) {
                Decision::Skip { reason } => notes.push(reason),
                Decision::Run { trigger } => notes.extend(trigger.note()),
            }
        }
        notes.extend(crate::run::size_warning(&[1000, 1000, 1000], 10));
        notes.push("try 1 failed (Unreachable: connecting failed); retrying".into());
        assert_eq!(notes.len(), 5, "every kind was made: {notes:?}");
        for note in &notes {
            let thai = note_in_thai(note);
            assert!(
                thai.as_deref()
                    .is_some_and(|t| t.contains("0") || t.contains("1")),
                "`{note}` should read in Thai with its values: {thai:?}"
            );
        }
        assert_eq!(
            note_in_thai(&notes[2]).as_deref(),
            Some("สำรองย้อนหลังของรอบ 02:00 วันที่ 2026-02-03"),
            "the catch-up note, with its slot"
        );
        let two = format!("{}\nsomething else", notes[0]);
        assert_eq!(
            note_in_thai(&two).map(|t| t.lines().count()),
            Some(2),
            "line by line, an unknown line kept"
        );
        assert_eq!(note_in_thai("something else"), None, "nothing to translate");
    }

    #[test]
    fn both_sides_of_the_table_have_the_same_values_and_the_thai_is_thai() {
        for (en, th) in THAI.iter().chain(NOTES) {
            assert_eq!(
                en.matches("{}").count(),
                th.matches("{}").count(),
                "the Thai of `{en}` should keep its values"
            );
            assert!(
                th.chars().any(|c| ('\u{0E00}'..='\u{0E7F}').contains(&c)),
                "the Thai of `{en}` should be written in Thai: {th}"
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (en, _) in THAI.iter().chain(NOTES) {
            assert!(seen.insert(en), "`{en}` should be in the table once");
        }
    }

    /// Every `with_hint` text in the engine and the app shell has its Thai (cron errors have
    /// their own, in `cron::thai`). Reads the sources, as rust-analyzer's tidy tests do.
    #[test]
    fn every_hint_in_the_sources_has_a_thai_sentence() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in [root.join("src"), root.join("../../src-tauri/src")] {
            collect(&dir, &mut files);
        }
        assert!(files.len() > 20, "the sources should be found: {files:?}");
        let mut missing = Vec::new();
        let mut found = 0;
        for file in files {
            if file.components().any(|c| c.as_os_str() == "cron") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("a source file reads");
            for template in hint_texts(&text) {
                found += 1;
                if !THAI.iter().any(|(en, _)| *en == template) {
                    missing.push(format!("{}: {template}", file.display()));
                }
            }
        }
        assert!(
            found > 80,
            "the hints should be found in the sources ({found})"
        );
        assert!(
            missing.is_empty(),
            "hints without Thai in hints.rs:\n{}",
            missing.join("\n")
        );
    }

    fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                collect(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("hints.rs") {
                files.push(path);
            }
        }
    }

    /// The text of each `.with_hint("…")` or `.with_hint(format!("…", …))`, with line
    /// continuations joined and each `{…}` written `{}`.
    fn hint_texts(source: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (at, _) in source.match_indices(".with_hint(") {
            let rest = source[at + ".with_hint(".len()..].trim_start();
            let rest = rest
                .strip_prefix("format!(")
                .map(str::trim_start)
                .unwrap_or(rest);
            let Some(body) = rest.strip_prefix('"') else {
                continue; // a variable: its text is checked where it is made
            };
            let mut text = String::new();
            let mut chars = body.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('\n') => {
                            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                                chars.next();
                            }
                        }
                        Some('n') => text.push('\n'),
                        Some(other) => text.push(other),
                        None => break,
                    },
                    other => text.push(other),
                }
            }
            out.push(placeholders(&text));
        }
        out
    }

    fn placeholders(text: &str) -> String {
        let text = text.replace("{{", "\u{1}").replace("}}", "\u{2}");
        let mut out = String::new();
        let mut inside = false;
        for c in text.chars() {
            match (c, inside) {
                ('{', _) => inside = true,
                ('}', true) => {
                    inside = false;
                    out.push_str("{}");
                }
                (_, true) => {}
                (c, false) => out.push(c),
            }
        }
        out.replace('\u{1}', "{").replace('\u{2}', "}")
    }
}
