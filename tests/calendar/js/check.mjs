// Reads iCalendar files with Mozilla's ical.js (the parser of Thunderbird's calendar) and prints
// what it understood as JSON, one object per file: every VEVENT's properties and, per UID, the
// occurrences it expands to (RRULE, EXDATE, RECURRENCE-ID overrides) as UTC instants.
//
// Only the VTIMEZONE components inside each file are registered: a TZID the file does not
// define is an error, so the instants below come from the file's own time zone definitions.
//
// usage: node check.mjs FILE.ics [FILE.ics ...]  (prints a JSON array; exit 1 on a parse error)

import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const LIMIT = 2000;

function iso(time) {
  return time ? time.toJSDate().toISOString() : null;
}

function zoneOf(component, name) {
  const prop = component.getFirstProperty(name);
  if (!prop) return null;
  const tzid = prop.getParameter("tzid");
  const value = prop.getFirstValue();
  if (tzid) {
    if (!value.zone || value.zone.tzid !== tzid) {
      throw new Error(`${name}: TZID ${tzid} has no VTIMEZONE in the file`);
    }
  }
  return tzid || (value.zone === ICAL.Timezone.utcTimezone ? "UTC" : "floating");
}

function address(prop) {
  return {
    value: prop.getFirstValue(),
    cn: prop.getParameter("cn") || null,
    role: prop.getParameter("role") || null,
    partstat: prop.getParameter("partstat") || null,
    rsvp: prop.getParameter("rsvp") || null,
    cutype: prop.getParameter("cutype") || null,
    sentBy: prop.getParameter("sent-by") || null,
  };
}

function describe(vevent) {
  const event = new ICAL.Event(vevent);
  const get = (name) => vevent.getFirstPropertyValue(name);
  const exdates = vevent.getAllProperties("exdate").flatMap((p) => p.getValues().map(iso));
  const rrule = vevent.getFirstPropertyValue("rrule");
  const organizer = vevent.getFirstProperty("organizer");
  return {
    uid: event.uid,
    recurrenceId: iso(event.recurrenceId),
    start: iso(event.startDate),
    end: iso(event.endDate),
    startZone: zoneOf(vevent, "dtstart"),
    endZone: zoneOf(vevent, "dtend"),
    recurrenceIdZone: vevent.hasProperty("recurrence-id") ? zoneOf(vevent, "recurrence-id") : null,
    summary: event.summary,
    description: event.description,
    location: event.location,
    url: get("url") ? String(get("url")) : null,
    status: get("status"),
    transp: get("transp"),
    sequence: event.sequence,
    dtstamp: iso(get("dtstamp")),
    rrule: rrule ? rrule.toString() : null,
    exdates,
    organizer: organizer ? address(organizer) : null,
    attendees: vevent.getAllProperties("attendee").map(address),
    alarms: vevent.getAllSubcomponents("valarm").map((a) => ({
      action: a.getFirstPropertyValue("action"),
      trigger: String(a.getFirstPropertyValue("trigger")),
      description: a.getFirstPropertyValue("description"),
    })),
  };
}

function expand(vevents) {
  const byUid = new Map();
  for (const vevent of vevents) {
    const uid = vevent.getFirstPropertyValue("uid");
    if (!byUid.has(uid)) byUid.set(uid, []);
    byUid.get(uid).push(vevent);
  }
  const out = {};
  for (const [uid, group] of byUid) {
    const master = group.find((c) => !c.hasProperty("recurrence-id"));
    const overrides = group.filter((c) => c.hasProperty("recurrence-id"));
    const list = [];
    if (master && master.hasProperty("rrule")) {
      const event = new ICAL.Event(master, { exceptions: overrides, strictExceptions: true });
      const iterator = event.iterator();
      let next;
      while ((next = iterator.next()) && list.length < LIMIT) {
        const details = event.getOccurrenceDetails(next);
        list.push({
          recurrenceId: iso(details.recurrenceId),
          start: iso(details.startDate),
          end: iso(details.endDate),
          summary: details.item.summary,
          status: details.item.component.getFirstPropertyValue("status"),
          location: details.item.location,
        });
      }
    } else {
      for (const vevent of group) {
        const event = new ICAL.Event(vevent);
        list.push({
          recurrenceId: iso(event.recurrenceId),
          start: iso(event.startDate),
          end: iso(event.endDate),
          summary: event.summary,
          status: vevent.getFirstPropertyValue("status"),
          location: event.location,
        });
      }
    }
    out[uid] = list;
  }
  return out;
}

function check(path) {
  const text = readFileSync(path, "utf8");
  const root = new ICAL.Component(ICAL.parse(text));
  ICAL.TimezoneService.reset();
  const timezones = root.getAllSubcomponents("vtimezone");
  for (const vtimezone of timezones) ICAL.TimezoneService.register(vtimezone);
  const vevents = root.getAllSubcomponents("vevent");
  return {
    file: path,
    method: root.getFirstPropertyValue("method"),
    prodid: root.getFirstPropertyValue("prodid"),
    version: root.getFirstPropertyValue("version"),
    name: root.getFirstPropertyValue("x-wr-calname"),
    timezones: timezones.map((tz) => tz.getFirstPropertyValue("tzid")),
    events: vevents.map(describe),
    occurrences: expand(vevents),
  };
}

try {
  const results = process.argv.slice(2).map(check);
  process.stdout.write(JSON.stringify(results));
} catch (error) {
  process.stderr.write(`ical.js: ${error.stack || error}\n`);
  process.exit(1);
}
