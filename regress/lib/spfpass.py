"""The SMTP side of regress/t-spfpass, run inside its client namespace
(resolv.conf naming the test's nsd, the senders' addresses on lo)."""

import atexit
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import spamdtest as st  # noqa: E402

PASS = 3        # seconds: -G passtime
TO = '<user@example.org>'


def attempt(sd, src, mfrom):
    """HELO, MAIL, RCPT, DATA from src: the final code."""
    s = sd.connect(source=src, timeout=30)
    rd = st.Reader(s)
    try:
        rd.reply(30)
        st.chat(s, b'HELO out.pool.walk.test', rd, 30)
        st.chat(s, ('MAIL FROM:%s' % mfrom).encode(), rd, 30)
        st.chat(s, ('RCPT TO:%s' % TO).encode(), rd, 30)
        code, _ = st.chat(s, b'DATA', rd, 30)
        return code
    finally:
        s.close()


def dkey(sd, dom, mfrom):
    return [e for e in sd.db() if e['type'] == 'GREY' and
            e['ip'] == 'spf:' + dom and e['from'] == mfrom]


def first_then_retry(t, sd, mfrom, dom, first, retry, what, passes,
                     keyed=True):
    """An attempt from first, then after passtime one from retry."""
    if not t.eq(attempt(sd, first, mfrom), 451,
                '%s: first attempt greylisted' % what):
        t.diag(sd.log()[-3000:])
    t.ok(sd.poll(lambda: sd.grey(first), 20), '%s: its tuple is in' % what,
         '\n'.join(sd.db_lines()))
    if keyed:
        t.ok(dkey(sd, dom, mfrom), '%s: the domain-keyed record is '
             'listed (GREY|spf:%s||from|to|...)' % (what, dom),
             '\n'.join(sd.db_lines()))
    time.sleep(PASS + 1)
    attempt(sd, retry, mfrom)
    if passes:
        t.ok(sd.poll(lambda: sd.white(retry), 20),
             '%s: the retry from %s is whitelisted' % (what, retry),
             '\n'.join(sd.db_lines()))
        t.ok(st.logged(sd, '%s: passed by SPF domain %s' % (retry, dom),
                       10) is not None, '%s: logged' % what)
        t.ok(not sd.white(first), '%s: the first address is not' % what)
    else:
        t.ok(sd.poll(lambda: sd.grey(retry), 20),
             '%s: the retry from %s is greylisted' % (what, retry),
             '\n'.join(sd.db_lines()))
        t.ok(not sd.white(retry), '%s: and not whitelisted' % what,
             '\n'.join(sd.db_lines()))


def run(t):
    args = ['-G', '%ds:1h:1h' % PASS, '-s', '0', '-S', '0']
    st.ensure_user()
    mdir = tempfile.mkdtemp(prefix='spamdspf.', dir='/tmp')
    atexit.register(shutil.rmtree, mdir, True)
    os.chown(mdir, st.pwd.getpwnam(st.SPAMD_USER).pw_uid, -1)
    metrics = os.path.join(mdir, 'metrics.prom')
    sd = st.Spamd(args + ['-L', 'spf=1', '-m', metrics])
    sd.start()
    first_then_retry(t, sd, '<news@pool.walk.test>', 'pool.walk.test',
                     '203.0.113.81', '203.0.113.82', 'inside the SPF',
                     True)
    first_then_retry(t, sd, '<info@pool.walk.test>', 'pool.walk.test',
                     '203.0.113.83', '198.51.100.90', 'retry outside the '
                     'SPF', False)
    first_then_retry(t, sd, '<a@anyone.walk.test>', 'anyone.walk.test',
                     '198.51.100.91', '198.51.100.92', '"+all"', False,
                     keyed=False)
    t.ok(st.poll(lambda: st.prom_samples(metrics).get(
        'spamd_spf_passed_total') == 1, 20),
        'metrics: spamd_spf_passed_total 1',
        repr(st.prom_samples(metrics).get('spamd_spf_passed_total')))
    sd.stop()

    sd = st.Spamd(args)
    sd.start()
    first_then_retry(t, sd, '<news@pool.walk.test>', 'pool.walk.test',
                     '203.0.113.81', '203.0.113.84', 'without -L spf=1',
                     False, keyed=False)
    sd.stop()


tap = st.Tap()
try:
    run(tap)
except Exception as e:  # report, never die silently
    import traceback
    tap.ok(False, 'test ran to the end', '%s: %s' % (type(e).__name__, e))
    tap.diag(traceback.format_exc())
sys.exit(tap.done())
