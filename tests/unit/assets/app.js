// tests/unit/assets/app.js - fixture: a script (text/javascript).
document.documentElement.dataset.ok = "1";
