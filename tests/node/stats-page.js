// Opens the statistics page in Debian's chromium (headless, through puppeteer-core), saves a
// screenshot, and prints what the page shows as JSON: each table row's proxy, name, class and
// computed background colour, so that a test checks the state colours as a browser renders
// them.
//   node stats-page.js URL USER PASSWORD SCREENSHOT.png [PROXY/SERVER=ACTION]
// With the last argument, the admin form is used as a person would: the server's box
// ticked, the action chosen, Apply clicked; the page it leads to is the one reported, with
// its status message.
const puppeteer = require("puppeteer-core");

(async () => {
  const [url, user, password, shot, act] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--ignore-certificate-errors"],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1600, height: 900 });
    if (user) await page.authenticate({ username: user, password: password });
    let resp = await page.goto(url, { waitUntil: "load" });
    if (act) {
      const [target, action] = act.split("=");
      const [proxy, server] = target.split("/");
      const form = await page.evaluateHandle(
        (px) => document.querySelector(`a[name="${px}"]`).closest("form"), proxy);
      const box = await form.$(`input[name="s"][value="${server}"]`);
      await box.click();
      const select = await form.$("select[name=action]");
      await select.select(action);
      const submit = await form.$("input[type=submit]");
      [resp] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), submit.click()]);
    }
    await page.screenshot({ path: shot, fullPage: true });
    const rows = await page.evaluate(() =>
      Array.from(document.querySelectorAll("table.tbl tr")).map((tr) => {
        const a = tr.querySelector("a.lfsb");
        return {
          anchor: a ? a.getAttribute("name") || a.getAttribute("href").slice(1) : "",
          cls: tr.className,
          bg: getComputedStyle(tr).backgroundColor,
          cells: Array.from(tr.children).map((td) => td.innerText.trim()),
        };
      })
    );
    const message = await page.evaluate(() => {
      const m = document.querySelector("p > div, body > div");
      return m ? m.innerText.trim() : "";
    });
    console.log(JSON.stringify({ status: resp.status(), url: page.url(), title: await page.title(),
                                 message, rows }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
