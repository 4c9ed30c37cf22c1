--
-- PostgreSQL database dump
--

\restrict s8oQdt0cgikXQJQub3DZY7MBlT38bWOCyfH1uUNMfv4mwwqZICrIfhIUTygD048

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: destinations_schema6; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA destinations_schema6;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: audit_log; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.audit_log (
    id bigint NOT NULL,
    at bigint NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    count bigint NOT NULL,
    detail text,
    session text NOT NULL,
    client_ip text
);


--
-- Name: audit_log_id_seq; Type: SEQUENCE; Schema: destinations_schema6; Owner: -
--

CREATE SEQUENCE destinations_schema6.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_log_id_seq; Type: SEQUENCE OWNED BY; Schema: destinations_schema6; Owner: -
--

ALTER SEQUENCE destinations_schema6.audit_log_id_seq OWNED BY destinations_schema6.audit_log.id;


--
-- Name: cursor_leases; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.cursor_leases (
    instance text NOT NULL,
    partition integer NOT NULL,
    seq bigint NOT NULL,
    owner text,
    until bigint DEFAULT 0 NOT NULL,
    seen_at bigint DEFAULT 0 NOT NULL
);


--
-- Name: cursor_replicas; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.cursor_replicas (
    owner text NOT NULL,
    until bigint NOT NULL
);


--
-- Name: data_protection_keys; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.data_protection_keys (
    name text NOT NULL,
    xml text NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: dedupe; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.dedupe (
    source_id text NOT NULL,
    message_id text NOT NULL,
    expires_at bigint NOT NULL
);


--
-- Name: deliveries; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.deliveries (
    id bigint NOT NULL,
    event_seq bigint NOT NULL,
    destination_id text NOT NULL,
    subscription text NOT NULL,
    status text NOT NULL,
    attempts bigint DEFAULT 0 NOT NULL,
    next_attempt_at bigint NOT NULL,
    lease_owner text,
    lease_until bigint,
    created_at bigint NOT NULL,
    first_attempt_at bigint,
    updated_at bigint NOT NULL,
    plan text,
    steps_done bigint DEFAULT 0 NOT NULL,
    reason text,
    last_status bigint,
    last_error text,
    last_response text,
    held_ms bigint DEFAULT 0 NOT NULL,
    last_request text,
    error_class text,
    replays bigint DEFAULT 0 NOT NULL,
    CONSTRAINT deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivered'::text, 'filtered'::text, 'invalid'::text, 'dead'::text])))
);


--
-- Name: deliveries_id_seq; Type: SEQUENCE; Schema: destinations_schema6; Owner: -
--

CREATE SEQUENCE destinations_schema6.deliveries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: deliveries_id_seq; Type: SEQUENCE OWNED BY; Schema: destinations_schema6; Owner: -
--

ALTER SEQUENCE destinations_schema6.deliveries_id_seq OWNED BY destinations_schema6.deliveries.id;


--
-- Name: destination_state; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.destination_state (
    destination_id text NOT NULL,
    hold text,
    held_since bigint,
    hold_reason text,
    next_probe_at bigint,
    probe_failures bigint DEFAULT 0 NOT NULL,
    consecutive_failures bigint DEFAULT 0 NOT NULL,
    first_failure_at bigint,
    last_error text,
    last_error_at bigint,
    updated_at bigint NOT NULL
);


--
-- Name: duplicate_counts; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.duplicate_counts (
    destination_id text NOT NULL,
    day text NOT NULL,
    count bigint NOT NULL
);


--
-- Name: events; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.events (
    seq bigint NOT NULL,
    source_id text NOT NULL,
    message_id text NOT NULL,
    type text NOT NULL,
    user_key text,
    received_at bigint NOT NULL,
    body text NOT NULL
);


--
-- Name: events_seq_seq; Type: SEQUENCE; Schema: destinations_schema6; Owner: -
--

CREATE SEQUENCE destinations_schema6.events_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: events_seq_seq; Type: SEQUENCE OWNED BY; Schema: destinations_schema6; Owner: -
--

ALTER SEQUENCE destinations_schema6.events_seq_seq OWNED BY destinations_schema6.events.seq;


--
-- Name: filter_counts; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.filter_counts (
    destination_id text NOT NULL,
    reason text NOT NULL,
    day text NOT NULL,
    count bigint NOT NULL
);


--
-- Name: outcome_counts; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.outcome_counts (
    destination_id text NOT NULL,
    minute bigint NOT NULL,
    outcome text NOT NULL,
    count bigint NOT NULL,
    CONSTRAINT outcome_counts_outcome_check CHECK ((outcome = ANY (ARRAY['delivered'::text, 'retried'::text, 'dead'::text, 'filtered'::text, 'invalid'::text])))
);


--
-- Name: partner_calls; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.partner_calls (
    id bigint NOT NULL,
    destination_id text NOT NULL,
    at bigint NOT NULL,
    status bigint,
    step text NOT NULL,
    first_seq bigint NOT NULL,
    last_seq bigint NOT NULL,
    seqs text NOT NULL
);


--
-- Name: partner_calls_id_seq; Type: SEQUENCE; Schema: destinations_schema6; Owner: -
--

CREATE SEQUENCE destinations_schema6.partner_calls_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: partner_calls_id_seq; Type: SEQUENCE OWNED BY; Schema: destinations_schema6; Owner: -
--

ALTER SEQUENCE destinations_schema6.partner_calls_id_seq OWNED BY destinations_schema6.partner_calls.id;


--
-- Name: rate_limits; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.rate_limits (
    destination_id text NOT NULL,
    tokens double precision NOT NULL,
    refilled_at bigint NOT NULL,
    throttled_until bigint DEFAULT 0 NOT NULL,
    blocked_until bigint DEFAULT 0 NOT NULL
);


--
-- Name: schema_version; Type: TABLE; Schema: destinations_schema6; Owner: -
--

CREATE TABLE destinations_schema6.schema_version (
    version integer NOT NULL,
    description text NOT NULL,
    applied_at timestamp with time zone NOT NULL
);


--
-- Name: audit_log id; Type: DEFAULT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.audit_log ALTER COLUMN id SET DEFAULT nextval('destinations_schema6.audit_log_id_seq'::regclass);


--
-- Name: deliveries id; Type: DEFAULT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.deliveries ALTER COLUMN id SET DEFAULT nextval('destinations_schema6.deliveries_id_seq'::regclass);


--
-- Name: events seq; Type: DEFAULT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.events ALTER COLUMN seq SET DEFAULT nextval('destinations_schema6.events_seq_seq'::regclass);


--
-- Name: partner_calls id; Type: DEFAULT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.partner_calls ALTER COLUMN id SET DEFAULT nextval('destinations_schema6.partner_calls_id_seq'::regclass);


--
-- Data for Name: audit_log; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.audit_log (id, at, action, target, count, detail, session, client_ip) FROM stdin;
\.


--
-- Data for Name: cursor_leases; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.cursor_leases (instance, partition, seq, owner, until, seen_at) FROM stdin;
\.


--
-- Data for Name: cursor_replicas; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.cursor_replicas (owner, until) FROM stdin;
\.


--
-- Data for Name: data_protection_keys; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.data_protection_keys (name, xml, created_at) FROM stdin;
\.


--
-- Data for Name: dedupe; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.dedupe (source_id, message_id, expires_at) FROM stdin;
web	m-retry	1772452800000
web	m-dead-1	1772452800000
web	m-dead-2	1772452800000
web	m-done-1	1772452800000
web	m-done-2	1772452800000
web	m-part	1772452800000
web	m-paused-1	1772452860000
web	m-new-1	1772452860000
web	m-new-2	1772452860000
web	m-new-3	1772452860000
web	m-paused-2	1772452860000
web	m-nowhere	1772452860000
\.


--
-- Data for Name: deliveries; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.deliveries (id, event_seq, destination_id, subscription, status, attempts, next_attempt_at, lease_owner, lease_until, created_at, first_attempt_at, updated_at, plan, steps_done, reason, last_status, last_error, last_response, held_ms, last_request, error_class, replays) FROM stdin;
1	1	sm	track	pending	1	1772366700000	\N	\N	1772366400000	1772366400000	1772366400000	[{"step":"event","method":"POST","path":"/v1/event","body":{"event_uid":"Signed Up"}}]	0	\N	503	HTTP 503	busy	0	{"Method":"POST","Url":"https://partner.example/v1/event","Body":"{\\u0022event_uid\\u0022:\\u0022Signed Up\\u0022}"}	Retry: HTTP 503	0
2	2	sm	track	dead	1	1772366400000	\N	\N	1772366400000	1772366400000	1772366400000	[{"step":"event","method":"POST","path":"/v1/event","body":{"event_uid":"Signed Up"}}]	0	partner answered 400: rejected, not retried	400	HTTP 400	bad	0	{"Method":"POST","Url":"https://partner.example/v1/event","Body":"{\\u0022event_uid\\u0022:\\u0022Signed Up\\u0022}"}	Final: HTTP 400	0
3	3	sm	track	dead	1	1772366400000	\N	\N	1772366400000	1772366400000	1772366400000	[{"step":"event","method":"POST","path":"/v1/event","body":{"event_uid":"Signed Up"}}]	0	partner answered 422: rejected, not retried	422	HTTP 422	nope	0	{"Method":"POST","Url":"https://partner.example/v1/event","Body":"{\\u0022event_uid\\u0022:\\u0022Signed Up\\u0022}"}	Final: HTTP 422	0
4	4	sm	track	delivered	1	1772366400000	\N	\N	1772366400000	1772366400000	1772366400000	[{"step":"event","method":"POST","path":"/v1/event","body":{"event_uid":"Signed Up"}}]	1	\N	\N	\N	\N	0	\N	\N	0
5	5	sm	track	delivered	1	1772366400000	\N	\N	1772366400000	1772366400000	1772366400000	[{"step":"event","method":"POST","path":"/v1/event","body":{"event_uid":"Signed Up"}}]	1	\N	\N	\N	\N	0	\N	\N	0
6	6	smc	group	pending	1	1772366520000	\N	\N	1772366400000	1772366400000	1772366400000	[{"step":"segment-add","method":"POST","path":"/Portal/Api/organizations/ACME/lists/USERS_SEGMENT/segments/SegmentToSMCStatic/data/load?keyFields=MAIL","body":[["MAIL"],["user-2"]]},{"step":"event-row","method":"POST","path":"/Portal/Api/organizations/ACME/lists/segment_events/data/load?keyFields=MESSAGE_ID","body":{"MESSAGE_ID":"m-part","EVENT_TYPE":"group","EVENT_NAME":null,"USER_ID":"user-2","ANONYMOUS_ID":null,"PREVIOUS_ID":null,"GROUP_ID":"SegmentToSMCStatic","EVENT_TIMESTAMP":"2026-03-01T11:59:00.000Z","PROPERTIES":"{\\u0022matchkey\\u0022:\\u0022MAIL\\u0022,\\u0022method\\u0022:\\u0022ADD\\u0022,\\u0022userlist\\u0022:\\u0022USERS_SEGMENT\\u0022}","CONTEXT":"{}"}}]	1	\N	500	HTTP 500	oops	0	{"Method":"POST","Url":"https://partner.example/Portal/Api/organizations/ACME/lists/segment_events/data/load?keyFields=MESSAGE_ID","Body":"{\\u0022MESSAGE_ID\\u0022:\\u0022m-part\\u0022,\\u0022EVENT_TYPE\\u0022:\\u0022group\\u0022,\\u0022EVENT_NAME\\u0022:null,\\u0022USER_ID\\u0022:\\u0022user-2\\u0022,\\u0022ANONYMOUS_ID\\u0022:null,\\u0022PREVIOUS_ID\\u0022:null,\\u0022GROUP_ID\\u0022:\\u0022SegmentToSMCStatic\\u0022,\\u0022EVENT_TIMESTAMP\\u0022:\\u00222026-03-01T11:59:00.000Z\\u0022,\\u0022PROPERTIES\\u0022:\\u0022{\\\\u0022matchkey\\\\u0022:\\\\u0022MAIL\\\\u0022,\\\\u0022method\\\\u0022:\\\\u0022ADD\\\\u0022,\\\\u0022userlist\\\\u0022:\\\\u0022USERS_SEGMENT\\\\u0022}\\u0022,\\u0022CONTEXT\\u0022:\\u0022{}\\u0022}"}	Retry: HTTP 500	0
7	7	paused	track	pending	0	1772366460000	\N	\N	1772366460000	1772366460000	1772366460000	[{"step":"event","method":"POST","path":"/v1/event","body":{"event_uid":"Signed Up"}}]	0	\N	401	HTTP 401	denied	0	{"Method":"POST","Url":"https://partner.example/v1/event","Body":"{\\u0022event_uid\\u0022:\\u0022Signed Up\\u0022}"}	AuthFailure: HTTP 401	0
8	8	sm	track	pending	0	1772366460000	\N	\N	1772366460000	\N	1772366460000	\N	0	\N	\N	\N	\N	0	\N	\N	0
9	8	um	track	pending	0	1772366460000	\N	\N	1772366460000	\N	1772366460000	\N	0	\N	\N	\N	\N	0	\N	\N	0
10	9	sm	track	pending	0	1772366460000	\N	\N	1772366460000	\N	1772366460000	\N	0	\N	\N	\N	\N	0	\N	\N	0
11	9	um	track	pending	0	1772366460000	\N	\N	1772366460000	\N	1772366460000	\N	0	\N	\N	\N	\N	0	\N	\N	0
12	10	sm	track	pending	0	1772366460000	\N	\N	1772366460000	\N	1772366460000	\N	0	\N	\N	\N	\N	0	\N	\N	0
13	10	um	track	pending	0	1772366460000	\N	\N	1772366460000	\N	1772366460000	\N	0	\N	\N	\N	\N	0	\N	\N	0
14	11	paused	track	pending	0	1772366460000	\N	\N	1772366460000	\N	1772366460000	\N	0	\N	\N	\N	\N	0	\N	\N	0
\.


--
-- Data for Name: destination_state; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.destination_state (destination_id, hold, held_since, hold_reason, next_probe_at, probe_failures, consecutive_failures, first_failure_at, last_error, last_error_at, updated_at) FROM stdin;
sm	\N	\N	\N	\N	0	0	\N	HTTP 503	1772366400000	1772366400000
smc	\N	\N	\N	\N	0	1	1772366400000	HTTP 500	1772366400000	1772366400000
paused	paused	1772366460000	partner answered 401: credentials problem; paused until a canary succeeds or an operator resumes it	1772368260000	0	0	\N	HTTP 401	1772366460000	1772366460000
\.


--
-- Data for Name: duplicate_counts; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.duplicate_counts (destination_id, day, count) FROM stdin;
sm	2026-03-01	1
\.


--
-- Data for Name: events; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.events (seq, source_id, message_id, type, user_key, received_at, body) FROM stdin;
1	web	m-retry	track	user-1	1772366400000	{"type":"track","messageId":"m-retry","userId":"user-1","event":"Signed Up","receivedAt":"2026-03-01T12:00:00.000Z","properties":{"plan":"pro"}}
2	web	m-dead-1	track	user-1	1772366400000	{"type":"track","messageId":"m-dead-1","userId":"user-1","event":"Signed Up","receivedAt":"2026-03-01T12:00:00.000Z","properties":{"plan":"pro"}}
3	web	m-dead-2	track	user-1	1772366400000	{"type":"track","messageId":"m-dead-2","userId":"user-1","event":"Signed Up","receivedAt":"2026-03-01T12:00:00.000Z","properties":{"plan":"pro"}}
4	web	m-done-1	track	user-1	1772366400000	{"type":"track","messageId":"m-done-1","userId":"user-1","event":"Signed Up","receivedAt":"2026-03-01T12:00:00.000Z","properties":{"plan":"pro"}}
5	web	m-done-2	track	user-1	1772366400000	{"type":"track","messageId":"m-done-2","userId":"user-1","event":"Signed Up","receivedAt":"2026-03-01T12:00:00.000Z","properties":{"plan":"pro"}}
6	web	m-part	group	user-2	1772366400000	{"type":"group","messageId":"m-part","groupId":"SegmentToSMCStatic","userId":"user-2","traits":{"matchkey":"MAIL","method":"ADD","userlist":"USERS_SEGMENT"},"timestamp":"2026-03-01T11:59:00.000Z"}
7	web	m-paused-1	track	user-1	1772366400000	{"type":"track","messageId":"m-paused-1","userId":"user-1","event":"Signed Up","receivedAt":"2026-03-01T12:00:00.000Z","properties":{"plan":"pro"}}
8	web	m-new-1	track	user-1	1772366400000	{"type":"track","messageId":"m-new-1","userId":"user-1","event":"Signed Up","receivedAt":"2026-03-01T12:00:00.000Z","properties":{"plan":"pro"}}
9	web	m-new-2	track	user-1	1772366400000	{"type":"track","messageId":"m-new-2","userId":"user-1","event":"Signed Up","receivedAt":"2026-03-01T12:00:00.000Z","properties":{"plan":"pro"}}
10	web	m-new-3	track	user-1	1772366400000	{"type":"track","messageId":"m-new-3","userId":"user-1","event":"Signed Up","receivedAt":"2026-03-01T12:00:00.000Z","properties":{"plan":"pro"}}
11	web	m-paused-2	track	user-1	1772366400000	{"type":"track","messageId":"m-paused-2","userId":"user-1","event":"Signed Up","receivedAt":"2026-03-01T12:00:00.000Z","properties":{"plan":"pro"}}
\.


--
-- Data for Name: filter_counts; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.filter_counts (destination_id, reason, day, count) FROM stdin;
sm	source_not_linked	2026-03-01	1
\.


--
-- Data for Name: outcome_counts; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.outcome_counts (destination_id, minute, outcome, count) FROM stdin;
sm	1772366400000	retried	1
sm	1772366400000	dead	2
sm	1772366400000	delivered	2
smc	1772366400000	retried	1
\.


--
-- Data for Name: partner_calls; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.partner_calls (id, destination_id, at, status, step, first_seq, last_seq, seqs) FROM stdin;
1	sm	1772366400000	503	event	1	1	1
2	sm	1772366400000	400	event	2	2	2
3	sm	1772366400000	422	event	3	3	3
4	sm	1772366400000	200	event	4	4	4
5	sm	1772366400000	200	event	5	5	5
6	smc	1772366400000	200	segment-add	6	6	6
7	smc	1772366400000	500	event-row	6	6	6
8	paused	1772366460000	401	event	7	7	7
\.


--
-- Data for Name: rate_limits; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.rate_limits (destination_id, tokens, refilled_at, throttled_until, blocked_until) FROM stdin;
\.


--
-- Data for Name: schema_version; Type: TABLE DATA; Schema: destinations_schema6; Owner: -
--

COPY destinations_schema6.schema_version (version, description, applied_at) FROM stdin;
1	events, deliveries, dedupe, counters, instance state, rate limits	2026-12-07 12:55:35.404417+00
2	filter reasons stored as stable codes	2026-12-07 12:55:35.404417+00
3	operator console: audit log, Data Protection keys	2026-12-07 12:55:35.404417+00
4	partition leases: per-instance partition cursors leased by replicas	2026-12-07 12:55:35.404417+00
5	per-minute outcome counts per instance (the console's charts)	2026-12-07 12:55:35.404417+00
6	one record per partner call (the console's event story)	2026-12-07 12:55:35.404417+00
\.


--
-- Name: audit_log_id_seq; Type: SEQUENCE SET; Schema: destinations_schema6; Owner: -
--

SELECT pg_catalog.setval('destinations_schema6.audit_log_id_seq', 1, false);


--
-- Name: deliveries_id_seq; Type: SEQUENCE SET; Schema: destinations_schema6; Owner: -
--

SELECT pg_catalog.setval('destinations_schema6.deliveries_id_seq', 14, true);


--
-- Name: events_seq_seq; Type: SEQUENCE SET; Schema: destinations_schema6; Owner: -
--

SELECT pg_catalog.setval('destinations_schema6.events_seq_seq', 12, true);


--
-- Name: partner_calls_id_seq; Type: SEQUENCE SET; Schema: destinations_schema6; Owner: -
--

SELECT pg_catalog.setval('destinations_schema6.partner_calls_id_seq', 8, true);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);


--
-- Name: cursor_leases cursor_leases_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.cursor_leases
    ADD CONSTRAINT cursor_leases_pkey PRIMARY KEY (instance, partition);


--
-- Name: cursor_replicas cursor_replicas_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.cursor_replicas
    ADD CONSTRAINT cursor_replicas_pkey PRIMARY KEY (owner);


--
-- Name: data_protection_keys data_protection_keys_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.data_protection_keys
    ADD CONSTRAINT data_protection_keys_pkey PRIMARY KEY (name);


--
-- Name: dedupe dedupe_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.dedupe
    ADD CONSTRAINT dedupe_pkey PRIMARY KEY (source_id, message_id);


--
-- Name: deliveries deliveries_event_seq_destination_id_subscription_key; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.deliveries
    ADD CONSTRAINT deliveries_event_seq_destination_id_subscription_key UNIQUE (event_seq, destination_id, subscription);


--
-- Name: deliveries deliveries_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.deliveries
    ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id);


--
-- Name: destination_state destination_state_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.destination_state
    ADD CONSTRAINT destination_state_pkey PRIMARY KEY (destination_id);


--
-- Name: duplicate_counts duplicate_counts_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.duplicate_counts
    ADD CONSTRAINT duplicate_counts_pkey PRIMARY KEY (destination_id, day);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (seq);


--
-- Name: filter_counts filter_counts_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.filter_counts
    ADD CONSTRAINT filter_counts_pkey PRIMARY KEY (destination_id, reason, day);


--
-- Name: outcome_counts outcome_counts_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.outcome_counts
    ADD CONSTRAINT outcome_counts_pkey PRIMARY KEY (destination_id, minute, outcome);


--
-- Name: partner_calls partner_calls_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.partner_calls
    ADD CONSTRAINT partner_calls_pkey PRIMARY KEY (id);


--
-- Name: rate_limits rate_limits_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.rate_limits
    ADD CONSTRAINT rate_limits_pkey PRIMARY KEY (destination_id);


--
-- Name: schema_version schema_version_pkey; Type: CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.schema_version
    ADD CONSTRAINT schema_version_pkey PRIMARY KEY (version);


--
-- Name: ix_dedupe_expires; Type: INDEX; Schema: destinations_schema6; Owner: -
--

CREATE INDEX ix_dedupe_expires ON destinations_schema6.dedupe USING btree (expires_at);


--
-- Name: ix_deliveries_destination; Type: INDEX; Schema: destinations_schema6; Owner: -
--

CREATE INDEX ix_deliveries_destination ON destinations_schema6.deliveries USING btree (destination_id, status);


--
-- Name: ix_deliveries_due; Type: INDEX; Schema: destinations_schema6; Owner: -
--

CREATE INDEX ix_deliveries_due ON destinations_schema6.deliveries USING btree (next_attempt_at, id) WHERE (status = 'pending'::text);


--
-- Name: ix_deliveries_finished; Type: INDEX; Schema: destinations_schema6; Owner: -
--

CREATE INDEX ix_deliveries_finished ON destinations_schema6.deliveries USING btree (status, updated_at);


--
-- Name: ix_deliveries_order; Type: INDEX; Schema: destinations_schema6; Owner: -
--

CREATE INDEX ix_deliveries_order ON destinations_schema6.deliveries USING btree (destination_id, event_seq) WHERE (status = 'pending'::text);


--
-- Name: ix_events_user_key; Type: INDEX; Schema: destinations_schema6; Owner: -
--

CREATE INDEX ix_events_user_key ON destinations_schema6.events USING btree (user_key);


--
-- Name: ix_partner_calls_at; Type: INDEX; Schema: destinations_schema6; Owner: -
--

CREATE INDEX ix_partner_calls_at ON destinations_schema6.partner_calls USING btree (at);


--
-- Name: ix_partner_calls_seq; Type: INDEX; Schema: destinations_schema6; Owner: -
--

CREATE INDEX ix_partner_calls_seq ON destinations_schema6.partner_calls USING btree (destination_id, first_seq);


--
-- Name: deliveries deliveries_event_seq_fkey; Type: FK CONSTRAINT; Schema: destinations_schema6; Owner: -
--

ALTER TABLE ONLY destinations_schema6.deliveries
    ADD CONSTRAINT deliveries_event_seq_fkey FOREIGN KEY (event_seq) REFERENCES destinations_schema6.events(seq);


--
-- PostgreSQL database dump complete
--

\unrestrict s8oQdt0cgikXQJQub3DZY7MBlT38bWOCyfH1uUNMfv4mwwqZICrIfhIUTygD048

