"""The web console end to end, in headless Chromium, against `parley demo`.

Run by crates/cli/tests/console.rs (which starts the demo with --tokens-file):

    python console_test.py --tokens TOKENS.json --screenshots DIR

Blue's officer logs in and sees the demo conflict on the map; the interface
switches to Russian and Chinese; Blue notifies an activity that conflicts with
Red's patrol through the form (the dry-run preview shows the conflict, then it
is sent); Red's officer, in a second browser, sees it arrive live without a
reload and acknowledges it (read-back shown, "received" wording); both see the
acknowledgment. Blue then notifies through the API a notice given as GeoJSON (a
Feature Polygon and a Point with radius_m); Red's map draws it, its card reads
no NaN, and every field of Red's acknowledgment dialog (shape, centre, extent,
altitudes, start, end; the notice and each volume; in each coordinate format
and as a DTG) is checked against what the API stored, computed here
independently; Red acknowledges it. Blue then types a notice into the form as
the field writes it (DMS and compact vertices, each read back live; feet above
mean sea level): stored as computed here, kept as given and compared above
WGS84, both in Red's read-back, whose centre in MGRS and UTM GEOTRANS and PROJ
read back; and a circle on an MGRS cell, in the past, refused with the
server's reason until "send it even if unusual" is ticked, then stored on the
cell's centre with its half-diagonal added (GEOTRANS, PROJ, geographiclib). Then the talks: Red confirms the demo's talk and closes its
follow-up; Blue records the next round through the form (a refused field is
marked); Red records its own version, the difference is shown, and Blue
accepts it. Screenshots go to DIR; their paths are printed.
"""

import argparse
import datetime
import json
import math
import os
import re
import shutil
import sys
import tempfile
import urllib.request

import mgrs
from geographiclib.geodesic import Geodesic
from pyproj import Proj
from selenium import webdriver
from selenium.common.exceptions import ElementNotInteractableException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT_S = 20
profiles = tempfile.mkdtemp(prefix="parley-console-")
shots = []
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1
    print(f"ok {checks}: {what}", flush=True)


def browser(name):
    chromium = os.environ.get("PARLEY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = os.environ.get("PARLEY_CHROMEDRIVER") or shutil.which("chromedriver")
    if not chromium or not driver_path:
        sys.exit("console test: chromium and chromedriver are needed (Debian: apt-get install chromium chromium-driver; .ci/run does it)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1440,900", "--lang=en-US", f"--user-data-dir={os.path.join(profiles, name)}"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(WAIT_S)
    return driver


def wait(driver, css, timeout=WAIT_S, visible=False):
    cond = EC.visibility_of_element_located if visible else EC.presence_of_element_located
    try:
        return WebDriverWait(driver, timeout).until(cond((By.CSS_SELECTOR, css)))
    except TimeoutException:
        shot(driver, "failure")
        raise AssertionError(f"timed out waiting for {css}")


def wait_text(driver, css, text, timeout=WAIT_S):
    try:
        WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    except TimeoutException:
        shot(driver, "failure")
        got = [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]
        raise AssertionError(f"timed out waiting for {text!r} in {css}; found {got!r}")
    return driver.find_element(By.CSS_SELECTOR, css)


def click(driver, css, keys=None):
    """Clicks (or types `keys` into) an element once it is shown and enabled;
    retries if a live update redrew it or hid it meanwhile (under load a
    render can land between the wait and the click)."""
    for _ in range(10):
        try:
            wait(driver, css)
            el = WebDriverWait(driver, WAIT_S, ignored_exceptions=[StaleElementReferenceException]).until(
                EC.element_to_be_clickable((By.CSS_SELECTOR, css)))
            # Into the middle of its pane, clear of the sticky tab bar, as a person would scroll.
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
            el.send_keys(keys) if keys else el.click()
            return
        except (StaleElementReferenceException, ElementNotInteractableException):
            continue
    raise AssertionError(f"{css} kept being redrawn")


def choose(driver, element_id, value):
    """Selects `value` in a <select>; finds it again if a live update redrew it."""
    for _ in range(10):
        try:
            Select(driver.find_element(By.ID, element_id)).select_by_value(value)
            return
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"#{element_id} kept being redrawn")


def shot(driver, name):
    path = os.path.join(args.screenshots, f"{len(shots) + 1:02d}-{name}.png")
    driver.save_screenshot(path)
    shots.append(path)


def api(path, token):
    req = urllib.request.Request(args.url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def api_post(path, token, body):
    req = urllib.request.Request(args.url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


# ---- the read-back, computed independently of the console (format.js) ----

EARTH_R = 6371008.8
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def fmt_coord(v, axis, fmt):
    hemi = ("S" if v < 0 else "N") if axis == "lat" else ("W" if v < 0 else "E")
    a, width = abs(v), 2 if axis == "lat" else 3
    if fmt == "dms":
        s = math.floor(a * 3600 + 0.5)
        return f"{s // 3600:0{width}d}°{(s % 3600) // 60:02d}'{s % 60:02d}\"{hemi}"
    if fmt == "ddm":
        m = math.floor(a * 60000 + 0.5)
        return f"{m // 60000:0{width}d}°{(m % 60000) / 1000:06.3f}'{hemi}"
    return f"{a:.5f}°{hemi}"


def fmt_point(lat, lng, fmt):
    return f"{fmt_coord(lat, 'lat', fmt)} {fmt_coord(lng, 'lng', fmt)}"


def wrap(lng):
    return (lng + 180) % 360 - 180


def box_of(volumes):
    """South, north, west, east and the centre of the volumes' box (circles by their angular radius)."""
    south, north, arcs = 90.0, -90.0, []
    for v in volumes:
        vol = v["volume"]
        if "outline_circle" in vol:
            c = vol["outline_circle"]
            lat, lng, dlat = c["center"]["lat"], c["center"]["lng"], c["radius"]["value"] / EARTH_R * 180 / math.pi
            s, n = max(-90, lat - dlat), min(90, lat + dlat)
            dlng = min(180, dlat / math.cos(lat * math.pi / 180))
            south, north = min(south, s), max(north, n)
            arcs.append((wrap(lng - dlng), 2 * dlng))
        else:
            for p in vol["outline_polygon"]["vertices"]:
                south, north = min(south, p["lat"]), max(north, p["lat"])
                arcs.append((wrap(p["lng"]), 0))
    # The narrowest arc of longitude that covers every arc.
    west, width = min(((start, max((w - start) % 360 + d for w, d in arcs)) for start, _ in arcs), key=lambda x: x[1])
    east = west + width - 360 if west + width > 180 else west + width
    mid = west + width / 2 - 360 if west + width / 2 >= 180 else west + width / 2
    return south, north, west, east, ((south + north) / 2, mid)


def js_number(x):
    return str(int(x)) if float(x).is_integer() else repr(x)


def utc_text(iso):
    d = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(datetime.timezone.utc)
    time = f"{d:%H:%M}" + (f":{d.second:02d}" if d.second else "")
    return f"{d.day:02d} {MONTHS[d.month - 1]} {d.year} {time}Z", f"{d:%d%H%M}Z{MONTHS[d.month - 1].upper()}{d.year % 100:02d}"


def expected_readback(volumes, fmt, prefix="ack"):
    """Every field of the dialog ({id: text}, plus the titles of start and end) from the stored volumes."""
    out = {}
    whole = [(prefix, volumes)] + ([(f"{prefix}-v{i + 1}", [v]) for i, v in enumerate(volumes)] if len(volumes) > 1 else [])
    for p, vols in whole:
        south, north, west, east, (clat, clng) = box_of(vols)
        one = vols[0]["volume"] if len(vols) == 1 else None
        if one and "outline_circle" in one:
            c = one["outline_circle"]
            out[f"{p}-shape"] = "circle"
            out[f"{p}-centre"] = fmt_point(c["center"]["lat"], c["center"]["lng"], fmt)
            out[f"{p}-extent"] = f"radius {js_number(c['radius']['value'])} m"
        else:
            out[f"{p}-shape"] = f"polygon, {len(one['outline_polygon']['vertices'])} vertices" if one else f"{len(vols)} volumes"
            out[f"{p}-centre"] = fmt_point(clat, clng, fmt)
            out[f"{p}-extent"] = (f"{fmt_coord(south, 'lat', fmt)} – {fmt_coord(north, 'lat', fmt)}, "
                                  f"{fmt_coord(west, 'lng', fmt)} – {fmt_coord(east, 'lng', fmt)}")
        lower = min(v["volume"]["altitude_lower"]["value"] for v in vols)
        upper = max(v["volume"]["altitude_upper"]["value"] for v in vols)
        out[f"{p}-altitudes"] = f"{js_number(lower)}–{js_number(upper)} m W84"
        start = min(vols, key=lambda v: v["time_start"]["value"])["time_start"]["value"]
        end = max(vols, key=lambda v: v["time_end"]["value"])["time_end"]["value"]
        (out[f"{p}-start"], out[f"{p}-start@title"]), (out[f"{p}-end"], out[f"{p}-end@title"]) = utc_text(start), utc_text(end)
    return out


def read_fields(driver, expected):
    """The dialog's fields named in `expected`, read in one go (`id@title` for a title)."""
    return driver.execute_script("""
        const out = {};
        for (const key of arguments[0]) {
            const [id, attr] = key.split('@');
            const e = document.getElementById(id);
            out[key] = e ? (attr ? e.getAttribute(attr) : e.textContent) : null;
        }
        return out;""", list(expected))


def log_in(driver, token):
    driver.get(args.url + "/")
    field = wait(driver, "#token", visible=True)
    field.send_keys(token)
    field.send_keys(Keys.ENTER)
    wait(driver, "#console-view:not([hidden])")


def tab(driver, name):
    click(driver, f"#tab-{name}")
    wait(driver, f"#panel-{name}:not([hidden])")


def set_value(driver, css, value):
    # Found and set in one script: a live update may redraw the element
    # between a lookup and a later call (a stale element flaked CI once).
    wait(driver, css)
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]); if (!e) return false;"
        " e.value = arguments[1]; e.dispatchEvent(new Event('input', {bubbles: true})); return true;", css, value)
    assert found, f"{css} is not on the page"


def severe_logs(driver):
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


# ---- the officer's views (issue 22) ----

LANGS = [("en", "Action required"), ("ru", "Требует действий"), ("zh", "待办")]
VIEWS = ["actions", "conflicts", "lines", "status", "notify", "talks", "brief"]
# Every kind of journal entry: none may reach the screen untranslated.
KINDS = ["party_created", "operator_created", "operator_revoked", "line_created", "line_status_changed", "message_sent",
         "notice", "acknowledged", "party_key_registered", "conflict_found", "conflict_resolved", "conflict_coordinated",
         "site_registered", "site_withdrawn", "deadline_escalated", "line_check_sent", "line_check_answered",
         "line_check_missed", "talk_recorded", "talk_confirmed", "follow_up_closed", "notice_undelivered",
         "peer_refused"]


def set_lang(driver, lang):
    driver.execute_script("const s = document.querySelector('#lang'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));", lang)


def raw_kinds(driver):
    """Raw entry kinds or other snake_case words shown anywhere on the page."""
    text, heads = driver.execute_script("return [document.body.innerText, [...document.querySelectorAll('.entry-kind')].map(e => e.textContent.trim())]")
    return sorted(set(re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", text)) | {h for h in heads if h in KINDS})


def every_view(driver, who):
    """A screenshot of each view in each language; no raw kind name in any."""
    for lang, word in LANGS:
        set_lang(driver, lang)
        wait_text(driver, "#tab-actions", word)
        for view in VIEWS:
            tab(driver, view)
            found = raw_kinds(driver)
            check(not found, f"{who}, {lang}, {view}: no raw kind names on screen {found}")
            if view == "lines" and lang != "en":
                states = driver.execute_script("return [...document.querySelectorAll('.notice-state')].map(e => e.textContent.split(' · ')[0])")
                check(states and not any(w in s for s in states for w in ("notified", "amended", "cancelled")),
                      f"{who}, {lang}: the notices' states are translated {states[:2]}")
            shot(driver, f"{who}-{view}-{lang}")
            if view == "lines":
                # The conversation and the composer, below the notices.
                driver.execute_script("document.querySelector('#conversation').scrollIntoView({block: 'start'})")
                shot(driver, f"{who}-conversation-{lang}")
    set_lang(driver, "en")
    wait_text(driver, "#tab-actions", "Action required")


def owed(token, party):
    return [d for d in api("/v1/deadlines", token)["deadlines"] if d["party"] == party]


def view_geometry(driver):
    """The map's size and transform: (width, height, tx, ty, k)."""
    return driver.execute_script("""
        const r = document.querySelector('#map').getBoundingClientRect();
        const m = document.querySelector('#map g.world').getAttribute('transform').match(/translate\\(([-\\d.]+) ([-\\d.]+)\\) scale\\(([-\\d.e]+)\\)/);
        return [r.width, r.height, Number(m[1]), Number(m[2]), Number(m[3]), r.left, r.top];""")


def unproject(x, y):
    """Web Mercator world coordinates (1024 wide) to (lat, lng), independently of map.js."""
    lng = x / 1024 * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi - 2 * math.pi * y / 1024)))
    return lat, lng


def main():
    tokens = json.load(open(args.tokens))
    args.url = args.url or tokens["url"]
    officer = {o["party"]: o["token"] for o in tokens["officers"]}
    os.makedirs(args.screenshots, exist_ok=True)

    blue = browser("blue")
    red = None
    try:
        # 1. Blue logs in and sees the demo conflict, highlighted, over the basemap.
        log_in(blue, officer["blue"])
        wait_text(blue, "#me", "blue")
        wait(blue, "#map rect.conflict-area.highlighted[data-conflict]")
        wait(blue, "#map path.country")
        # The map is redrawn as live events arrive: read it in one go.
        seen = blue.execute_script("""
            const c = document.querySelector('#map rect.conflict-area[data-conflict]');
            const n = (css) => document.querySelectorAll(css).length;
            return {id: c.dataset.conflict, cls: c.getAttribute('class'), fill: getComputedStyle(c).fill,
                    countries: n('#map path.country'), own: n('#map path.activity.own'),
                    red: n('#map path.activity.other[data-party=red]'), sites: n('#map path.site')};""")
        check(seen["countries"] > 100, "the Natural Earth basemap is drawn")
        check("highlighted" in seen["cls"], f"conflict {seen['id']} is on the map, highlighted")
        check(seen["fill"] == "rgb(176, 18, 111)", f"the meeting area is filled in the conflict colour, magenta ({seen['fill']})")
        check(seen["own"] >= 1, "Blue's own activities are drawn")
        check(seen["red"] >= 1, "Red's activities on the shared line are drawn")
        check(seen["sites"] >= 1, "protected sites are drawn")
        style = blue.execute_script("""
            const s = (css) => { const e = document.querySelector(css); const c = getComputedStyle(e); return [c.stroke, c.strokeDasharray]; };
            return {own: s('#map path.activity.own'), other: s('#map path.activity.other'),
                    legend: document.querySelector('.legend').innerText};""")
        check(style["own"][0] == "rgb(0, 105, 92)" and style["own"][1] == "none",
              f"Blue's own activities are dark teal, solid, whatever the party is called ({style['own']})")
        check(style["other"][0] == "rgb(161, 92, 0)" and style["other"][1] != "none",
              f"the other party's are amber, dashed ({style['other']})")
        check("solid" in style["legend"] and "dashed" in style["legend"], "the legend says which is which, by pattern too")
        # What needs action comes first: the list and the count match the API's deadlines.
        check(blue.find_element(By.ID, "tab-actions").get_attribute("aria-selected") == "true", "the console opens on what needs action")
        due = owed(officer["blue"], "blue")
        wait(blue, "#action-list li.card.action" if due else "#action-list li.none")
        shown = blue.execute_script("return [...document.querySelectorAll('#action-list [data-deadline-id]')].filter(e => e.tagName === 'LI').map(e => e.dataset.deadlineId)")
        check(sorted(shown) == sorted(d["id"] for d in due) and due, f"the action list is Blue's open deadlines, {len(due)}: {shown}")
        check(blue.find_element(By.ID, "action-count").get_attribute("data-count") == str(len(due)), "the header counts them")
        wait_text(blue, "#action-list", " left")
        shot(blue, "blue-action-required")

        tab(blue, "conflicts")
        wait_text(blue, "#conflict-list", seen["id"])
        # Where the two meet, in the card, from the API's meeting area.
        area = next(c for c in api("/v1/conflicts", officer["blue"])["conflicts"] if c["id"] == seen["id"])["meetings"][0]["area"]
        where = blue.execute_script("return document.querySelector(arguments[0]).textContent", f"#conflict-list [data-conflict='{seen['id']}'] [data-field=where]")
        check(fmt_point((area["south"] + area["north"]) / 2, (area["west"] + area["east"]) / 2, "dd") in where
              and fmt_coord(area["south"], "lat", "dd") in where, f"the conflict card says where they meet: {where!r}")
        click(blue, "#conflict-list .show-conflict")
        shot(blue, "blue-map-demo-conflict")

        # The map reads alone: labels, a graticule with its degrees, a true scale bar, the cursor's coordinates.
        furniture = blue.execute_script("""
            const n = (css) => document.querySelectorAll(css).length;
            const s = document.querySelector('#map .scale');
            return {grid: n('#map line.grid'), lat: n('#map .grid-label[data-lat]'), lng: n('#map .grid-label[data-lng]'),
                    labels: [...document.querySelectorAll('#map text.map-label')].map(e => e.dataset.label + '|' + e.textContent),
                    metres: Number(s.dataset.metres), bar: s.querySelector('path').getAttribute('d'), scale: s.textContent};""")
        check(furniture["grid"] >= 4 and furniture["lat"] >= 2 and furniture["lng"] >= 2, f"a graticule with its degrees at the edges: {furniture['grid']} lines")
        drawn = blue.execute_script("return [...new Set([...document.querySelectorAll('#map path.activity')].map(e => e.dataset.activity))]")
        labelled = {l.split("|")[0] for l in furniture["labels"]}
        check(set(drawn) <= labelled and any("Idlib central hospital" in l for l in furniture["labels"]),
              f"every activity drawn and the sites are labelled: {sorted(labelled)}")
        boxes = blue.execute_script("""return [...document.querySelectorAll('#map text.map-label')]
            .filter(e => getComputedStyle(e).display !== 'none').map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, e.dataset.label]; })""")
        overlaps = [(a[4], b[4]) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
        check(boxes and not overlaps, f"{len(boxes)} labels shown, none over another {overlaps}")
        w, h, tx, ty, k, left, top = view_geometry(blue)
        clat, _ = unproject((w / 2 - tx) / k, (h / 2 - ty) / k)
        px = float(re.search(r"H([\d.]+)", furniture["bar"]).group(1))
        metres_per_px = 40075016.686 * math.cos(math.radians(clat)) / (1024 * k)
        check(abs(px * metres_per_px - furniture["metres"]) < 0.01 * furniture["metres"] and furniture["scale"] in (f"{furniture['metres'] / 1000:g} km", f"{furniture['metres']:g} m"),
              f"the scale bar is {furniture['scale']} long at the map's centre latitude")
        webdriver.ActionChains(blue).move_to_element_with_offset(blue.find_element(By.ID, "map"), 40, -30).perform()
        x, y = w / 2 + 40, h / 2 - 30
        lat, lng = unproject((x - tx) / k, (y - ty) / k)
        readout = blue.find_element(By.ID, "cursor-coords").text
        got = [float(v) for v in re.findall(r"([\d.]+)°", readout)]
        tol = 2 * 360 / (1024 * k)
        check(len(got) == 2 and abs(got[0] - abs(lat)) < tol and abs(got[1] - abs(lng)) < tol, f"the cursor's coordinates read {readout} ({lat:.5f}, {lng:.5f})")
        choose(blue, "coord-format", "dms")
        webdriver.ActionChains(blue).move_to_element_with_offset(blue.find_element(By.ID, "map"), 41, -30).perform()
        check(re.match(r"\d{2}°\d{2}'\d{2}\"[NS] \d{3}°\d{2}'\d{2}\"[EW]$", blue.find_element(By.ID, "cursor-coords").text) is not None,
              "in the officer's chosen format (DMS)")
        choose(blue, "coord-format", "dd")

        # The timeline of the line: a row per activity with its altitudes, conflicts marked on both sides.
        choose(blue, "timeline-line", "syria-air")
        choose(blue, "timeline-hours", "24")
        # The span shown: from the hour before now to 24 hours ahead, to whole hours.
        now_h = datetime.datetime.now(datetime.timezone.utc).timestamp() / 3600
        span = (math.floor(now_h - 1) * 3600, math.ceil(now_h + 24) * 3600)
        in_span = lambda v: (datetime.datetime.fromisoformat(v["time_start"]["value"].replace("Z", "+00:00")).timestamp() < span[1]
                             and datetime.datetime.fromisoformat(v["time_end"]["value"].replace("Z", "+00:00")).timestamp() > span[0])
        acts = {a["id"]: api(f"/v1/activities/{a['id']}", officer["blue"]) for a in api("/v1/activities", officer["blue"])["activities"]
                if a["line"] == "syria-air" and a["state"] != "cancelled"}
        rows = blue.execute_script("return [...document.querySelectorAll('#timeline g.tl-row')].map(g => [g.dataset.activity, g.querySelector('.tl-label').textContent, g.querySelectorAll('.tl-bar').length])")
        check(sorted(r[0] for r in rows) == sorted(acts), f"the timeline has a row per activity of the line: {len(rows)}")
        for act_id, label, bars in rows:
            vols = acts[act_id]["current"]["content"]["volumes"]
            lower = min(v["volume"]["altitude_lower"]["value"] for v in vols)
            upper = max(v["volume"]["altitude_upper"]["value"] for v in vols)
            check(f"({acts[act_id]['party']}) {js_number(lower)}–{js_number(upper)} m" in label and bars == len([v for v in vols if in_span(v)]),
                  f"{act_id}: who and at what altitudes ({label!r}), a bar per volume in the next 24 hours")
        for c in api("/v1/conflicts", officer["blue"])["conflicts"]:
            sides = [x for x in (c["a"], c["b"]) if x["kind"] == "activity" and x["id"] in acts]
            if c["state"] == "open" and sides and any(in_span({"time_start": {"value": m["time_start"]}, "time_end": {"value": m["time_end"]}}) for m in c["meetings"]):
                marks = blue.execute_script("return document.querySelectorAll(arguments[0]).length", f"#timeline rect.tl-conflict[data-conflict='{c['id']}']")
                shown = [m for m in c["meetings"] if in_span({"time_start": {"value": m["time_start"]}, "time_end": {"value": m["time_end"]}})]
                check(marks == len(sides) * len(shown), f"conflict {c['id']} is marked on the timeline on {len(sides)} rows")

        # Keyboard: the map takes + and arrow keys.
        before = blue.find_element(By.CSS_SELECTOR, "#map g.world").get_attribute("transform")
        blue.find_element(By.ID, "map").send_keys("+")
        blue.find_element(By.ID, "map").send_keys(Keys.ARROW_LEFT)
        after = blue.find_element(By.CSS_SELECTOR, "#map g.world").get_attribute("transform")
        check(before != after, "the map zooms and pans with the keyboard")

        # Tabs move with the arrow keys.
        click(blue, "#tab-conflicts", Keys.ARROW_RIGHT)
        check(blue.find_element(By.ID, "tab-lines").get_attribute("aria-selected") == "true"
              and blue.switch_to.active_element.get_attribute("id") == "tab-lines", "the tabs follow the arrow keys")
        click(blue, "#tab-lines", Keys.ARROW_LEFT)

        # The time slider hides what is not active at the chosen time.
        blue.find_element(By.ID, "time-all").click()
        set_value(blue, "#time", "0")
        check(blue.find_element(By.ID, "time-value").text.startswith("At "), "the time slider shows one instant")
        blue.find_element(By.ID, "time-all").click()

        # 2. Languages: the interface and the structured entries; free text as written.
        tab(blue, "lines")
        wait_text(blue, "#conversation", "Notice act-")
        rules = api("/v1/lines/syria-air", officer["blue"])["rules"]
        check(rules["ack_deadline_s"] == 900 and rules["notice_lead_time_s"] == 3600
              and "notice lead time 1 h, acknowledgment within 15 min" in blue.find_element(By.ID, "line-detail").text,
              "the line's rules read in hours and minutes")
        for lang, word, entry in [("ru", "Линии", "Уведомление act-"), ("zh", "线路", "的通报 act-")]:
            choose(blue, "lang", lang)
            wait_text(blue, "#tab-lines", word)
            wait_text(blue, "#conversation", entry)
            check(True, f"{lang}: the tabs and the structured entries are translated")
            check("Blue duty officer on the line." in blue.find_element(By.ID, "conversation").text,
                  f"{lang}: free text is shown as written")
            shot(blue, f"blue-lines-{lang}")
        choose(blue, "lang", "en")
        wait_text(blue, "#tab-lines", "Lines")
        tab(blue, "status")
        wait_text(blue, "#board", "Syria air deconfliction")
        shot(blue, "blue-status-board")
        # Blue's operators and who made each (issue 15): the demo's host made them.
        me = api("/v1/me", officer["blue"])
        row = wait_text(blue, f'#party-operators tr[data-operator="{me["operator"]}"]', "the host (")
        check("officer" in row.text, "the party's operators show with their role and who made them")
        check("may add operators to your party" in blue.find_element(By.ID, "party-host-may-add").text,
              "the party sees whether the host may add its operators")

        # 3. Red's officer, in a second browser, watches the line.
        red = browser("red")
        log_in(red, officer["red"])
        tab(red, "lines")
        wait_text(red, "#line-detail", "Syria air deconfliction")
        red.execute_script("window.__parleyNoReload = 'still here'")
        click(red, "#m-text", "Red watch officer on the line.")

        # 4. Blue notifies an activity meeting Red's patrol, drawn as a circle.
        patrol = next(a for a in api("/v1/activities", officer["blue"])["activities"] if a["party"] == "red"
                      and "outline_circle" in api(f"/v1/activities/{a['id']}", officer["blue"])["current"]["content"]["volumes"][0]["volume"])
        volume = api(f"/v1/activities/{patrol['id']}", officer["blue"])["current"]["content"]["volumes"][0]
        # Blue's console makes its own signing key (WebCrypto Ed25519, kept
        # non-extractable in the browser) and Blue's admin registers it:
        # Blue's first key, so its admin's word alone.
        click(blue, "#key-make")
        key_line = WebDriverWait(blue, WAIT_S).until(lambda d: d.find_element(By.ID, "key-line").get_attribute("data-key"))
        check(key_line.startswith("blue/console-"), f"the console made a signing key: {key_line}")
        private = blue.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const open = indexedDB.open("parley-signing", 1);
            open.onsuccess = () => {
              const r = open.result.transaction("keys").objectStore("keys").getAll();
              r.onsuccess = async () => {
                const k = r.result[0].pair.privateKey;
                let exported = false;
                try { await crypto.subtle.exportKey("pkcs8", k); exported = true; } catch (e) {}
                done([k.algorithm.name, k.extractable, exported]);
              };
            };""")
        check(private == ["Ed25519", False, False], f"its private half cannot leave the browser: {private}")
        admin = api_post("/v1/parties/blue/operators", tokens["host"], {"name": "blue admin", "role": "admin"})["token"]
        api_post("/v1/parties/blue/keys", admin, {"key": key_line})
        # Red's console too, so that its acknowledgment is signed.
        click(red, "#key-make")
        red_key = WebDriverWait(red, WAIT_S).until(lambda d: d.find_element(By.ID, "key-line").get_attribute("data-key"))
        red_admin = api_post("/v1/parties/red/operators", tokens["host"], {"name": "red admin", "role": "admin"})["token"]
        api_post("/v1/parties/red/keys", red_admin, {"key": red_key})

        tab(blue, "notify")
        choose(blue, "n-line", "syria-air")
        choose(blue, "n-category", "air")
        blue.find_element(By.ID, "n-poc").send_keys("Blue CAOC, channel 3")
        blue.find_element(By.ID, "n-shape-circle").click()
        blue.find_element(By.ID, "map").click()  # draw: the centre where the map is clicked
        check(blue.find_element(By.ID, "n-center").get_attribute("value") != "", "clicking the map places the circle's centre")
        check(blue.execute_script("return document.querySelectorAll('#map path.draft-shape').length") == 1, "the draft is drawn on the map")
        centre = volume["volume"]["outline_circle"]["center"]
        for css, value in [("#n-center", f"{centre['lat']}, {centre['lng']}"), ("#n-radius", "8000"),
                           ("#n-lower", "6500"), ("#n-upper", "7500"),
                           ("#n-start", utc_text(volume["time_start"]["value"])[1]), ("#n-end", volume["time_end"]["value"][:16])]:
            set_value(blue, css, value)
        check(blue.find_element(By.ID, "n-start-read").text == "= " + utc_text(volume["time_start"]["value"][:16] + ":00Z")[0],
              "the start, typed as a DTG, is read back in 24-hour UTC")
        blue.find_element(By.ID, "n-preview").click()
        preview = wait_text(blue, "#preview-some", "1")
        previewed = blue.find_element(By.ID, "preview-conflicts").text
        check(patrol["id"] in previewed, f"the dry run previews the conflict with {patrol['id']}")
        check("this notice (not sent yet)" in previewed and re.findall(r"act-[0-9a-f]+", previewed) == [patrol["id"]],
              f"and shows no id for the notice as though it were real: {previewed!r}")
        check(blue.execute_script("return document.querySelectorAll('#map rect.conflict-area.preview').length") >= 1, "the previewed meeting area is on the map")
        check(preview is not None, "preview shown before sending")
        shot(blue, "blue-notify-preview")
        blue.find_element(By.ID, "n-send").click()
        result = wait_text(blue, "#n-result", "sent")
        activity = result.get_attribute("data-activity")
        check(activity and activity.startswith("act-"), f"Blue's notice {activity} is sent")
        signed = api(f"/v1/activities/{activity}", officer["red"])["versions"][0].get("signed") or {}
        check(signed.get("key") == key_line and signed.get("note", "").startswith("parley-statement/v2\n"),
              f"and signed in the browser with Blue's registered key: {signed}")
        shot(blue, "blue-notice-sent")
        tab(blue, "lines")

        # 5. It arrives live for Red, without a reload; Red acknowledges with the read-back.
        wait(red, f"#notice-list [data-activity='{activity}']")
        check(red.execute_script("return window.__parleyNoReload") == "still here", "it arrived live, without reloading the page")
        check(red.execute_script("return document.querySelector('#m-text').value") == "Red watch officer on the line.",
              "a message being typed survives the live update")
        wait_text(red, f"#notice-list [data-activity='{activity}'] .ack.pending[data-party=red]", "not yet received; due in ")
        check(True, "Red's acknowledgment is pending, its deadline counting down")
        shot(red, "red-notice-arrived-live")
        click(red, f".ack-button[data-activity='{activity}']", Keys.ENTER)
        wait(red, "#ack-dialog[open]", visible=True)
        check(red.switch_to.active_element.get_attribute("id") == "ack-confirm", "the dialog opens with focus on its confirmation")
        red.switch_to.active_element.send_keys(Keys.ESCAPE)
        WebDriverWait(red, WAIT_S, ignored_exceptions=[StaleElementReferenceException]).until(lambda d: not d.execute_script("return document.querySelector('#ack-dialog').open"))
        check(True, "Escape closes the acknowledgment dialog without acknowledging")
        click(red, f".ack-button[data-activity='{activity}']", Keys.ENTER)
        wait(red, "#ack-dialog[open]", visible=True)
        detail = api(f"/v1/activities/{activity}", officer["red"])
        check(red.find_element(By.ID, "ack-hash").text == detail["content_sha256"], "the read-back shows the content hash")
        check(red.find_element(By.ID, "ack-version").text == "1", "the read-back shows the version")
        check(activity in red.find_element(By.ID, "ack-summary").text, "the read-back shows a summary")
        dialog = red.find_element(By.ID, "ack-dialog").text
        check("received" in red.find_element(By.ID, "ack-confirm").text and "approve" not in red.find_element(By.ID, "ack-confirm").text.lower(),
              "the confirmation says received, not approved")
        check("never approved" in dialog, "the dialog says an acknowledgment is not an approval")
        shot(red, "red-acknowledge-readback")
        red.find_element(By.ID, "ack-confirm").click()
        wait_text(red, "#ack-result", activity)
        wait(red, f"#notice-list [data-activity='{activity}'] .ack.received[data-party=red]")
        check(True, "Red sees its acknowledgment")
        acks = api(f"/v1/activities/{activity}", officer["red"])["acknowledgments"]
        check(acks and (acks[-1].get("signed") or {}).get("key") == red_key,
              f"signed in Red's browser with Red's registered key: {acks[-1:]}")
        shot(red, "red-acknowledged")

        # 6. Blue sees the acknowledgment live.
        wait_text(blue, f"#notice-list [data-activity='{activity}'] .ack.received[data-party=red]", "red: received v1")
        check(True, "Blue sees Red's acknowledgment live")
        shot(blue, "blue-sees-acknowledgment")

        # A message from Red arrives live for Blue, as written.
        click(red, ".message-form button[type=submit]")
        wait_text(blue, "#conversation", "Red watch officer on the line.")
        check(True, "Red's message arrives live for Blue, as written")
        page = blue.find_element(By.TAG_NAME, "body").text
        check(not re.search(r"\d (AM|PM)\b", page) and re.search(r"\b\d{2} [A-Z][a-z]{2} \d{2}:\d{2}Z", blue.find_element(By.ID, "conversation").text),
              "times read in 24-hour UTC (01 Dec 13:30Z), no AM/PM")

        # 6b. A notice given as GeoJSON through the API: a polygon and a circle (Point with radius_m).
        base = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0) + datetime.timedelta(days=2)
        iso = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
        square = [[38.41234, 35.40789], [38.58766, 35.40789], [38.58766, 35.59211], [38.41234, 35.59211], [38.41234, 35.40789]]
        body = {"category": "air", "point_of_contact": "Blue CAOC, GeoJSON desk", "volumes": [
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [square]},
             "properties": {"altitude_lower_m": 1000, "altitude_upper_m": 3000,
                            "time_start": iso(base + datetime.timedelta(hours=1)), "time_end": iso(base + datetime.timedelta(hours=3))}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [38.25, 35.254167]},
             "properties": {"radius_m": 4000, "altitude_lower_m": 500.5, "altitude_upper_m": 2500,
                            "time_start": iso(base + datetime.timedelta(hours=2, minutes=30)), "time_end": iso(base + datetime.timedelta(hours=5, minutes=15))}},
        ]}
        geo = api_post("/v1/lines/syria-air/notices", officer["blue"], body)["activity"]
        card = f"#notice-list [data-activity='{geo}']"
        wait(red, card)
        wait(red, f"#map path.activity.other[data-activity='{geo}']")
        check(red.execute_script("return document.querySelectorAll(arguments[0]).length", f"#map path.activity.other[data-activity='{geo}']") == 2,
              f"the GeoJSON notice {geo} is drawn on Red's map, both volumes, as another party's")
        wait(blue, f"#map path.activity.own[data-activity='{geo}']")
        check(True, "and on Blue's as its own")
        stored = api(f"/v1/activities/{geo}", officer["red"])["current"]["content"]["volumes"]
        check([sorted(v["volume"]) for v in stored] == [["altitude_lower", "altitude_upper", "outline_polygon"], ["altitude_lower", "altitude_upper", "outline_circle"]],
              "the server stored the GeoJSON volumes in the F3548 form")
        wait_text(red, "#conversation", f"Notice {geo} v1 from blue")
        for css in [card, "#conversation"]:
            text = red.execute_script("return document.querySelector(arguments[0]).innerText", css)
            check("NaN" not in text and "undefined" not in text, f"{css}: no NaN in the line entry ({text[:80]!r}...)")
        check(red.execute_script("return document.querySelector(arguments[0] + ' [data-field=centre]').textContent", card)
              == expected_readback(stored, "dd")["ack-centre"], "the notice's card shows its centre")

        # Every field of the dialog against the API, in each coordinate format.
        for fmt in ["dd", "ddm", "dms"]:
            choose(red, "coord-format", fmt)
            click(red, f".ack-button[data-activity='{geo}']", Keys.ENTER)
            wait(red, "#ack-dialog[open]", visible=True)
            expected = expected_readback(stored, fmt)
            got = read_fields(red, expected)
            wrong = {k: (got[k], v) for k, v in expected.items() if got[k] != v}
            check(not wrong, f"{fmt}: all {len(expected)} fields of the read-back match the API's volumes {wrong}")
            if fmt != "dms":
                red.switch_to.active_element.send_keys(Keys.ESCAPE)
                WebDriverWait(red, WAIT_S, ignored_exceptions=[StaleElementReferenceException]).until(lambda d: not d.execute_script("return document.querySelector('#ack-dialog').open"))
        check(red.execute_script("return localStorage.getItem('parley.coords')") == "dms", "the chosen coordinate format is remembered")
        check("35°15'15\"N 038°15'00\"E" == red.find_element(By.ID, "ack-v2-centre").text, "the circle's centre reads 35°15'15\"N 038°15'00\"E")
        shot(red, "red-acknowledge-geojson-en")
        # Dates as DTG on request; the dialog follows the choice and the language while open.
        red.execute_script("const s = document.querySelector('#time-format'); s.value = 'dtg'; s.dispatchEvent(new Event('change'));")
        expected = expected_readback(stored, "dms")
        check(red.find_element(By.ID, "ack-start").text == expected["ack-start@title"], f"DTG on request: {expected['ack-start@title']}")
        red.execute_script("const s = document.querySelector('#time-format'); s.value = 'utc'; s.dispatchEvent(new Event('change'));")
        for lang, word in [("ru", "Центр"), ("zh", "中心")]:
            red.execute_script("const s = document.querySelector('#lang'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));", lang)
            wait_text(red, "#ack-readback", word)
            check(red.find_element(By.ID, "ack-v2-centre").text == expected["ack-v2-centre"], f"{lang}: the read-back is in Russian/Chinese, the place unchanged")
            shot(red, f"red-acknowledge-geojson-{lang}")
        red.execute_script("const s = document.querySelector('#lang'); s.value = 'en'; s.dispatchEvent(new Event('change'));")
        wait_text(red, "#ack-readback", "Centre")
        # Another of Red's consoles acknowledges it first: this one's confirmation records nothing new, and says so.
        detail = api(f"/v1/activities/{geo}", officer["red"])
        api_post(f"/v1/activities/{geo}/acknowledgments", officer["red"], {"version": 1, "content_sha256": detail["content_sha256"]})
        red.find_element(By.ID, "ack-confirm").click()
        wait_text(red, "#ack-result", f"Receipt of {geo} v1 was already recorded for your party; nothing new was recorded.")
        acks = api(f"/v1/activities/{geo}", officer["blue"])["acknowledgments"]
        check([(k["party"], k["version"]) for k in acks] == [("red", 1)], f"Red's acknowledgment of {geo} v1 is recorded: {acks}")
        wait(blue, f"#notice-list [data-activity='{geo}'] .ack.received[data-party=red]")
        choose(red, "coord-format", "dd")

        # 6b'. Positions and altitudes as the field writes them, typed into the form (issue 23):
        # vertices in DMS (one compact ICAO), feet above mean sea level; then a circle
        # centred on an MGRS cell, in the past, refused as unusual until confirmed.
        tab(blue, "notify")
        choose(blue, "n-line", "syria-air")
        check(blue.execute_script("return document.querySelector('#n-alt-units option[value=FL]').disabled"),
              "flight levels are not offered on a line whose rules do not allow them")
        set_value(blue, "#n-poc", "Blue CAOC, DMS desk")
        click(blue, "#n-shape-polygon")
        typed = ["35°40'10\"N 038°40'20\"E", "35°40'10\"N 038°50'30\"E", "35°50'15\"N 038°50'30\"E", "3550N03840E"]
        # Read here from the text, independently of both parsers.
        dms = lambda d, m, s_: d + m / 60 + s_ / 3600
        wanted = [(dms(35, 40, 10), dms(38, 40, 20)), (dms(35, 40, 10), dms(38, 50, 30)), (dms(35, 50, 15), dms(38, 50, 30)), (dms(35, 50, 0), dms(38, 40, 0))]
        set_value(blue, "#n-vertices", "; ".join(typed))
        readouts = [f"{i + 1}: = {fmt_point(lat, lng, 'dd')}" for i, (lat, lng) in enumerate(wanted)]
        WebDriverWait(blue, WAIT_S).until(lambda d: d.execute_script("return [...document.querySelectorAll('#n-vertices-read li')].map((e) => e.textContent)") == readouts)
        check(True, f"each typed vertex is read back live as the server reads it: {readouts}")
        choose(blue, "n-alt-units", "FT")
        choose(blue, "n-alt-ref", "AMSL")
        day = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        for css, value in [("#n-lower", "5000"), ("#n-upper", "6500"),
                           ("#n-start", f"{day:%Y-%m-%dT%H:%M}"), ("#n-end", f"{day + datetime.timedelta(hours=2):%Y-%m-%dT%H:%M}")]:
            set_value(blue, css, value)
        click(blue, "#n-preview")
        wait_text(blue, "#preview-altitudes", "Altitudes compared as")
        click(blue, "#n-send")
        result = wait_text(blue, "#n-result", "sent")
        typed_notice = result.get_attribute("data-activity")
        vol = api(f"/v1/activities/{typed_notice}", officer["red"])["current"]["content"]["volumes"][0]
        got = [(p["lat"], p["lng"]) for p in vol["volume"]["outline_polygon"]["vertices"]]
        check(len(got) == 4 and all(abs(a - b) < 1e-9 and abs(c - d) < 1e-9 for (a, c), (b, d) in zip(got, wanted)),
              f"the stored vertices are the DMS typed, in decimal degrees: {got}")
        given = {"altitude_lower": {"value": 5000, "reference": "AMSL", "units": "FT"}, "altitude_upper": {"value": 6500, "reference": "AMSL", "units": "FT"}}
        check(vol.get("given") == given, f"the altitudes are kept as given: {vol.get('given')}")
        lower, upper = vol["volume"]["altitude_lower"]["value"], vol["volume"]["altitude_upper"]["value"]
        # EGM96 lies between -107 m and +86 m of the ellipsoid: the band compared is the one given, moved by it, never narrower.
        check(-107 <= lower - 5000 * 0.3048 <= 86 and -107 <= upper - 6500 * 0.3048 <= 86 and upper - lower >= 1500 * 0.3048
              and vol["volume"]["altitude_lower"]["reference"] == "W84" and lower != 5000 * 0.3048,
              f"and compared above the WGS84 ellipsoid: {lower}–{upper} m")
        click(red, f".ack-button[data-activity='{typed_notice}']", Keys.ENTER)
        wait(red, "#ack-dialog[open]", visible=True)
        shown = read_fields(red, ["ack-given", "ack-altitudes"])
        check(shown == {"ack-given": "5000 ft AMSL–6500 ft AMSL", "ack-altitudes": f"{js_number(lower)}–{js_number(upper)} m W84"},
              f"Red's read-back shows the altitudes as given and as compared: {shown}")
        shot(red, "red-acknowledge-given-altitudes")
        # The read-back in MGRS and UTM, as the server writes them; read here by GEOTRANS and PROJ.
        _, _, _, _, (blat, blng) = box_of([vol])
        for fmt in ["mgrs", "utm"]:
            choose(red, "coord-format", fmt)
            pattern = r"^\d{1,2}[C-X][A-Z]{2}\d{10}$" if fmt == "mgrs" else r"^\d{1,2}[NS] \d+ \d+$"
            WebDriverWait(red, WAIT_S).until(lambda d: re.match(pattern, d.execute_script("return document.getElementById('ack-centre').textContent")))
            shown = red.find_element(By.ID, "ack-centre").text
            if fmt == "mgrs":
                off = Geodesic.WGS84.Inverse(blat, blng, *mgrs.MGRS().toLatLon(shown))["s12"]
            else:
                zone, hemi, e_, n_ = re.match(r"(\d+)([NS]) (\d+) (\d+)", shown).groups()
                east_, north_ = Proj(proj="utm", zone=int(zone), south=hemi == "S", ellps="WGS84")(blng, blat)
                off = math.hypot(east_ - int(e_), north_ - int(n_))
            check(off < 1.5, f"{fmt}: the read-back's centre is {shown}, {off:.2f} m from the stored volumes' centre")
            check("south-west and north-east corners" in red.find_element(By.ID, "ack-extent").text, f"{fmt}: the extent by its corners")
        shot(red, "red-acknowledge-mgrs")
        choose(red, "coord-format", "dd")
        wait_text(red, "#ack-centre", "°N")
        red.find_element(By.ID, "ack-confirm").click()
        wait_text(red, "#ack-result", typed_notice)

        # The circle: its centre an MGRS cell of 100 m. GEOTRANS (PyPI mgrs) gives the
        # cell's centre in UTM; PROJ (pyproj) its centre and corners in degrees.
        cell = mgrs.MGRS().toMGRS(35.25, 38.9, MGRSPrecision=3)
        zone, hemisphere, easting, northing = mgrs.MGRS().MGRSToUTM(cell)
        utm = Proj(proj="utm", zone=zone, south=hemisphere == "S", ellps="WGS84")
        at = lambda de, dn: utm(easting + de, northing + dn, inverse=True)[::-1]
        clat, clng = at(0, 0)
        half = max(Geodesic.WGS84.Inverse(clat, clng, *at(de, dn))["s12"] for de in (-50, 50) for dn in (-50, 50))
        click(blue, "#n-shape-circle")
        past = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0) - datetime.timedelta(hours=3)
        for css, value in [("#n-center", cell), ("#n-radius", "3000"), ("#n-lower", "1000"), ("#n-upper", "2000"),
                           ("#n-start", f"{past:%Y-%m-%dT%H:%M}"), ("#n-end", f"{past + datetime.timedelta(hours=1):%Y-%m-%dT%H:%M}")]:
            set_value(blue, css, value)
        choose(blue, "n-alt-units", "M")
        choose(blue, "n-alt-ref", "W84")
        wait_text(blue, "#n-center-read", "the centre of the MGRS cell")
        centre_read = blue.find_element(By.ID, "n-center-read").text
        spread = float(re.search(r"half-diagonal, ([\d.]+) m", centre_read).group(1))
        check(centre_read.startswith(f"= {fmt_point(clat, clng, 'dd')} ") and abs(spread - half) < 0.06,
              f"the MGRS centre is read as its cell's centre, the half-diagonal ({half:.2f} m) added: {centre_read!r}")
        click(blue, "#n-preview")
        refusal = wait_text(blue, "#preview-error", "window has ended").text
        check("confirm_unusual" in refusal and "attention" in blue.find_element(By.ID, "n-confirm-unusual-row").get_attribute("class"),
              f"a notice of the past is refused with the server's reason, the confirmation box pointed out: {refusal!r}")
        shot(blue, "blue-notify-unusual-refused")
        # Reading the log empties it: the refusal is the one error so far, as the end of the test expects.
        logged = [m for m in severe_logs(blue) if "favicon" not in m]
        check(len(logged) == 1 and "/v1/lines/syria-air/notices - Failed to load resource: the server responded with a status of 422" in logged[0],
              f"the refusal is the 422 of the dry run, and nothing else failed: {logged}")
        click(blue, "#n-confirm-unusual")
        click(blue, "#n-preview")
        wait(blue, "#preview-some, #preview-none")
        click(blue, "#n-send")
        result = wait_text(blue, "#n-result", "sent")
        circle = api(f"/v1/activities/{result.get_attribute('data-activity')}", officer["blue"])["current"]["content"]["volumes"][0]["volume"]["outline_circle"]
        check(Geodesic.WGS84.Inverse(clat, clng, circle["center"]["lat"], circle["center"]["lng"])["s12"] < 0.01
              and abs(circle["radius"]["value"] - (3000 + half)) < 0.01,
              f"once confirmed it is stored centred on the cell's centre, the radius grown by its half-diagonal: {circle}")
        check(not blue.find_element(By.ID, "n-confirm-unusual").is_selected(), "the confirmation is not kept for the next notice")
        click(blue, "#n-shape-polygon")

        # 6c. Flash traffic: Blue sends a flash message; Red sees a banner and
        # hears a tone (Red has typed already: the browser allows sound), and it
        # needs Red's action, counting down, until Red replies from the console.
        flash_seq = api_post("/v1/lines/syria-air/messages", officer["blue"], {"priority": "flash", "text": "Break off north of 36N now"})["seq"]
        flash_id = f"reply:syria-air:{flash_seq}:red"
        wait_text(red, "#flash-banner:not([hidden]) #flash-text", "Break off north of 36N now")
        check(red.find_element(By.ID, "flash-banner").get_attribute("data-sounded") == "true", "the flash alert sounds (after the officer's first gesture)")
        tab(red, "actions")
        wait(red, f"#action-list li[data-deadline-id='{flash_id}'].flash")
        wait_text(red, f"#action-list li[data-deadline-id='{flash_id}'] .left", " left")
        check(int(red.find_element(By.ID, "action-count").get_attribute("data-count")) == len(owed(officer["red"], "red")),
              "Red's count includes the flash message to answer")
        wait(red, f"#conversation .deadline[data-seq='{flash_seq}']")
        shot(red, "red-flash-alert")
        click(red, "#flash-answer")
        wait(red, "#panel-lines:not([hidden])")
        # Live updates redraw the composer: read it in one go.
        composed = red.execute_script("return [document.querySelector('#m-kind').value, document.querySelector('#m-references').value, document.activeElement.id]")
        check(composed == ["reply", str(flash_seq), "m-text"], f"Reply opens the composer on the flash message: {composed}")
        set_value(red, "#m-text", "Breaking off north of 36N")
        click(red, "#m-send")
        wait(red, f"#conversation .answered[data-seq='{flash_seq}']")
        check(not red.find_elements(By.CSS_SELECTOR, f"#conversation .deadline[data-seq='{flash_seq}']"), "the answered flash message no longer counts down")
        reply = api("/v1/lines/syria-air/messages", officer["red"])["messages"][-1]
        check(reply["message"] == "reply" and reply["references"] == flash_seq and reply["party"] == "red", f"the reply is recorded against message {flash_seq}")
        WebDriverWait(red, WAIT_S, ignored_exceptions=[StaleElementReferenceException]).until(lambda d: not d.find_elements(By.CSS_SELECTOR, f"#action-list li[data-deadline-id='{flash_id}']"))
        check(flash_id not in [d["id"] for d in owed(officer["red"], "red")], "and no longer needs action, in the console and the API")
        # The escalation of the flash message (a reminder, at once) reads in every language.
        for lang, word in [("en", f"Escalation (reminder to your officers) for red: Reply to FLASH message {flash_seq} from blue"), ("ru", "Эскалация ("), ("zh", "升级（")]:
            set_lang(red, lang)
            wait_text(red, "#conversation li.entry-deadline_escalated", word)
            found = raw_kinds(red)
            check(not found, f"{lang}: the escalation and every entry read in the reader's language, no raw kind {found}")
        set_lang(red, "en")

        # 6d. Red sends a request with a deadline (typed as a DTG); Blue must answer it.
        red.execute_script("const s = document.querySelector('#m-kind'); s.value = 'request'; s.dispatchEvent(new Event('change'));")
        by = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)).replace(second=0, microsecond=0)
        set_value(red, "#m-deadline", utc_text(by.strftime("%Y-%m-%dT%H:%M:%SZ"))[1])
        read_back = red.execute_script("return document.querySelector('#m-deadline-read').textContent")
        check(read_back == f"= {by:%d} {MONTHS[by.month - 1]} {by:%H:%M}Z", f"the deadline, typed as a DTG, is read back in 24-hour UTC: {read_back!r}")
        set_value(red, "#m-text", "Confirm your package clears by then")
        click(red, "#m-send")
        wait_text(red, "#m-result", "Sent: request ")
        WebDriverWait(red, WAIT_S, ignored_exceptions=[StaleElementReferenceException]).until(lambda d: api("/v1/lines/syria-air/messages", officer["red"])["messages"][-1]["message"] == "request")
        request = api("/v1/lines/syria-air/messages", officer["red"])["messages"][-1]
        check(request["deadline"] == by.strftime("%Y-%m-%dT%H:%M:%SZ") and request["text"] == "Confirm your package clears by then",
              f"the request is recorded with the deadline typed: {request['deadline']}")
        req_id = f"reply:syria-air:{request['seq']}:blue"
        tab(blue, "actions")
        wait(blue, f"#action-list li[data-deadline-id='{req_id}']")
        click(blue, f"#action-list button[data-deadline-id='{req_id}']")
        wait(blue, "#panel-lines:not([hidden])")
        set_value(blue, "#m-text", "Package clears by then")
        click(blue, "#m-send")
        wait(red, f"#conversation .answered[data-seq='{request['seq']}']")
        check(True, "Blue answers from the action view; Red sees the request answered, no longer counting down")

        # 6e. Blue amends its notice from the console (a lower ceiling), then cancels the GeoJSON one.
        tab(blue, "lines")
        click(blue, f".amend-button[data-activity='{activity}']")
        wait(blue, "#amending:not([hidden])")
        check(blue.find_element(By.ID, "n-lower").get_attribute("value") == "6500", "the form is filled from the notice")
        set_value(blue, "#n-upper", "7000")
        blue.find_element(By.ID, "n-preview").click()
        wait(blue, "#preview-some, #preview-none")
        blue.find_element(By.ID, "n-send").click()
        wait_text(blue, "#n-result", "Amended")
        amended = api(f"/v1/activities/{activity}", officer["blue"])
        check(amended["version"] == 2 and amended["current"]["content"]["volumes"][0]["volume"]["altitude_upper"]["value"] == 7000,
              f"{activity} is amended: version 2, ceiling 7000 m")
        check(blue.find_element(By.ID, "amending").get_attribute("hidden") is not None, "and the form is back to new notices")
        wait_text(red, "#conversation", f"blue amended {activity}: now v2")
        check(True, "Red's conversation says what the new version did")
        tab(blue, "lines")
        click(blue, f".cancel-button[data-activity='{geo}']")
        click(blue, f".cancel-confirm[data-activity='{geo}']")
        wait_text(blue, "#ack-result", f"{geo} is cancelled")
        cancelled = api(f"/v1/activities/{geo}", officer["blue"])
        check(cancelled["state"] == "cancelled", f"{geo} is cancelled from the console")
        check((cancelled["current"].get("signed") or {}).get("key") == key_line, "the cancellation signed in Blue's browser")
        wait_text(red, "#conversation", f"blue cancelled {geo} (v2)")
        check(True, "and Red reads that it is cancelled")

        # 6f. The handover brief: open conflicts, what is owed, the last line checks, the next hours; printable alone.
        tab(blue, "brief")
        wait(blue, "#brief-title")
        brief = blue.execute_script("""
            const ids = (css, key) => [...document.querySelectorAll(css)].map(e => e.dataset[key]);
            return {conflicts: ids('#brief-conflicts li', 'conflict'), owed: ids('#brief-owed li', 'deadlineId'),
                    lines: ids('#brief-checks li', 'line'), acts: ids('#brief-activities li', 'activity')};""")
        now = datetime.datetime.now(datetime.timezone.utc)
        soon = []
        for a in api("/v1/activities", officer["blue"])["activities"]:
            if a["state"] == "cancelled":
                continue
            vols = api(f"/v1/activities/{a['id']}", officer["blue"])["current"]["content"]["volumes"]
            ts = [(datetime.datetime.fromisoformat(v["time_start"]["value"].replace("Z", "+00:00")), datetime.datetime.fromisoformat(v["time_end"]["value"].replace("Z", "+00:00"))) for v in vols]
            if any(s < now + datetime.timedelta(hours=12) and e > now for s, e in ts):
                soon.append(a["id"])
        check(sorted(brief["conflicts"]) == sorted(c["id"] for c in api("/v1/conflicts", officer["blue"])["conflicts"] if c["state"] == "open"), "the brief lists the open conflicts")
        check(sorted(brief["owed"]) == sorted(d["id"] for d in owed(officer["blue"], "blue")), "what Blue owes")
        check(sorted(brief["lines"]) == sorted(l["id"] for l in api("/v1/lines", officer["blue"])["lines"]), "the line checks of every line")
        check(sorted(brief["acts"]) == sorted(soon), f"and the activities of the next 12 hours: {brief['acts']}")
        tab(blue, "conflicts")
        blue.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        printed = blue.execute_script("return [getComputedStyle(document.querySelector('#panel-brief')).display, getComputedStyle(document.querySelector('.map-pane')).display, getComputedStyle(document.querySelector('#panel-conflicts')).display]")
        shot(blue, "blue-brief-as-printed")
        blue.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        check(printed == ["block", "none", "none"], f"printing prints the brief alone, from any tab: {printed}")
        pdf = os.path.join(args.screenshots, "blue-brief.pdf")
        import base64
        with open(pdf, "wb") as f:
            f.write(base64.b64decode(blue.print_page()))
        shots.append(pdf)

        # Every view in English, Russian and Chinese, for both officers.
        every_view(blue, "blue")
        every_view(red, "red")

        # 7. Talks: Red reads the demo's round of talks, recorded by Blue, and
        # confirms Blue's version; Blue sees the relation no longer flagged.
        talk = api("/v1/talks", officer["red"])["talks"][0]
        check(talk["state"] == "awaiting_confirmation", f"the demo's talk {talk['id']} awaits Red's confirmation")
        tab(red, "status")
        wait(red, "#relations tr.flagged[data-party=blue]")
        check("no talk for more than 365 days" in red.execute_script("return document.querySelector('#relations tr[data-party=blue]').innerText"),
              "before confirmation the relation is flagged on the status board")
        tab(red, "talks")
        click(red, f".show-talk[data-talk='{talk['id']}']")
        wait_text(red, "#talk-detail", "Flight safety over the Euphrates valley")
        detail = red.find_element(By.ID, "talk-detail").text
        check("positions differ" in detail and "Keep 2 km horizontal separation" in detail,
              "the agenda shows each item's outcome and each party's position")
        shot(red, "red-talk")
        click(red, ".confirm-talk[data-version='1']")
        wait_text(red, "#talk-result", "confirmed version 1")
        wait_text(red, "#talk-detail", "Send the draft procedure for drone notices")
        check(api(f"/v1/talks/{talk['id']}", officer["blue"])["state"] == "confirmed", "the talk is confirmed once Red confirms")
        tab(blue, "status")
        wait(blue, "#relations tr[data-party=red]")
        WebDriverWait(blue, WAIT_S, ignored_exceptions=[StaleElementReferenceException]).until(lambda d: "flagged" not in (
            d.find_element(By.CSS_SELECTOR, "#relations tr[data-party=red]").get_attribute("class") or ""))
        check(True, "once confirmed, the relation is no longer flagged (live, on the other side)")
        shot(blue, "blue-relations")
        check(all(t["id"] != talk["id"] for t in api("/v1/talks", officer["green"])["talks"]), "a third party does not see the talk")

        # 8. Red closes its follow-up with a note.
        click(red, "#talk-detail .close-follow-up[data-follow-up='1']")
        wait(red, "#fu-note-1")
        check(red.switch_to.active_element.get_attribute("id") == "fu-note-1", "closing a follow-up asks for what was done")
        click(red, "#fu-note-1", "Draft procedure sent on the line")
        click(red, "#fu-close-1")
        wait_text(red, "#talk-result", "is closed")
        wait_text(red, "#talk-detail li.fu.closed[data-follow-up='1']", "Draft procedure sent on the line")
        check(api(f"/v1/talks/{talk['id']}", officer["blue"])["follow_ups"][0]["state"] == "closed",
              "Red's follow-up is closed, with its note, for both sides")

        # 9. Blue records the next round through the form; a field the server
        # refuses is marked and named.
        tab(blue, "talks")
        click(blue, "#talk-new")
        wait(blue, "form.talk-form")
        check(blue.switch_to.active_element.get_attribute("id") == "tf-level", "the form opens on its first empty field")
        click(blue, "form.talk-form input.talk-party[value='red']")
        wait(blue, "#tf-agenda-0-positions-red")
        choose(blue, "tf-line", "syria-air")
        click(blue, "#tf-agenda-0-item", "Notification lead time for drone flights")
        choose(blue, "tf-agenda-0-outcome", "positions_differ")
        click(blue, "#tf-agenda-0-positions-blue", "30 minutes")
        click(blue, "#tf-agenda-0-positions-red", "2 hours")
        click(blue, "#tf-add-participant")
        choose(blue, "tf-participants-1-party", "red")
        click(blue, "#tf-participants-1-role", "head of the air operations centre")
        click(blue, "#tf-participants-0-role", "chief of the air staff's liaison")
        click(blue, "#tf-add-follow-up")
        check(blue.switch_to.active_element.get_attribute("id") == "tf-follow-ups-0-action", "a new follow-up takes the focus")
        blue.switch_to.active_element.send_keys("Propose a common lead time")
        choose(blue, "tf-follow-ups-0-owner", "blue")
        # A due date 60 days from the clock the test runs with, never a calendar date that ages.
        due = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=60)).strftime("%Y-%m-%dT12:00")
        set_value(blue, "#tf-follow-ups-0-due", due)
        click(blue, "#tf-submit")
        wait(blue, "#tf-level[aria-invalid='true']")
        errors = blue.find_element(By.ID, "talk-form-errors").text
        check("Level" in errors and blue.switch_to.active_element.get_attribute("id") == "tf-level",
              f"the refused field is marked, named and focused: {errors!r}")
        check(blue.find_element(By.ID, "tf-agenda-0-positions-red").get_attribute("value") == "2 hours", "nothing typed is lost")
        shot(blue, "blue-talk-form-refused")
        click(blue, "#tf-level", "working level")
        click(blue, "#tf-submit")
        recorded = wait_text(blue, "#talk-result", "Recorded version 1 of talk")
        new_talk = recorded.text.split("talk ")[1].split(";")[0]
        stored = api(f"/v1/talks/{new_talk}", officer["blue"])["record"]
        check(stored["parties"] == ["blue", "red"] and stored["level"] == "working level" and stored["line"] == "syria-air"
              and "venue" not in stored
              and stored["agenda"][0]["positions"] == {"blue": "30 minutes", "red": "2 hours"}
              and stored["follow_ups"] == [{"action": "Propose a common lead time", "owner": "blue", "due": due + ":00Z"}]
              and [p["party"] for p in stored["participants"]] == ["blue", "red"],
              f"the form's record is what the server stored: {new_talk}")

        # 10. Red records its own version; where the versions differ is shown.
        wait(red, f".show-talk[data-talk='{new_talk}']")
        click(red, f".show-talk[data-talk='{new_talk}']")
        click(red, f".propose-version[data-talk='{new_talk}']")
        wait(red, "form.talk-form")
        check(red.find_element(By.ID, "tf-agenda-0-item").get_attribute("value") == "Notification lead time for drone flights",
              "Red's version starts from the record as it stands")
        choose(red, "tf-agenda-0-outcome", "to_continue")
        click(red, "#tf-submit")
        wait_text(red, "#talk-result", "Recorded version 2")
        css = "#talk-differences tr[data-pointer='/agenda/0/outcome']"
        wait_text(red, css, "to continue")
        # Live updates redraw the table: read it in one go.
        row = red.execute_script("return document.querySelector(arguments[0]).innerText", css)
        check("positions differ" in row and "Item 1: Outcome" in row, f"the differing outcome is shown side by side: {row!r}")
        check(len(red.find_elements(By.CSS_SELECTOR, "#talk-differences tbody tr")) == 1, "only what differs is listed")
        check(api(f"/v1/talks/{new_talk}", officer["red"])["state"] == "disputed", "the talk is disputed while the versions differ")
        shot(red, "red-talk-versions-differ")

        # 11. Blue accepts Red's version: confirmed, with Blue's follow-up open.
        click(blue, f".show-talk[data-talk='{new_talk}']")
        click(blue, ".confirm-talk[data-version='2']")
        wait_text(blue, "#talk-result", "confirmed version 2")
        wait(blue, "#talk-detail .close-follow-up[data-follow-up='1']")
        check(api(f"/v1/talks/{new_talk}", officer["red"])["state"] == "confirmed", "both parties stand by version 2: confirmed")

        # Nothing was blocked by the Content-Security-Policy, no script failed.
        for name, d in [("blue", blue), ("red", red)]:
            # The one 422 is the record refused on purpose in step 9.
            errors = [m for m in severe_logs(d) if "favicon" not in m and "/v1/talks - Failed to load resource: the server responded with a status of 422" not in m]
            check(not errors, f"{name}: no errors in the browser console {errors}")
    finally:
        for p in shots:
            print(f"screenshot: {p}", flush=True)
        blue.quit()
        if red:
            red.quit()
        shutil.rmtree(profiles, ignore_errors=True)
    print(f"console: {checks} passed, 0 failed")


parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tokens", required=True, help="the file written by parley demo --tokens-file")
parser.add_argument("--url", help="the console's URL (default: the one in the tokens file)")
parser.add_argument("--screenshots", required=True, help="where to save screenshots")
args = parser.parse_args()
main()
