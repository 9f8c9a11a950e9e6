/* 企业微信手机模拟：长轮询 /phone/feed 取每部手机的新消息和卡片更新；发消息、点菜单、点卡片按钮都调用模拟器的
   /sandbox 控制接口（say、link、image、click、card_click），应用收到的就是真实格式的加密回调。 */
(function () {
  "use strict";
  var page = document.getElementById("phones");
  if (!page) { return; }
  var feedUrl = page.dataset.feed;
  var actBase = page.dataset.acts;
  var appName = page.dataset.appName || "";
  var cursor = Number(page.dataset.cursor || 0);
  var menuSig = page.dataset.menuSig || "";
  var phones = {};
  var order = [];
  var failures = 0;

  function one(root, sel) { return root.querySelector(sel); }
  function all(root, sel) { return Array.prototype.slice.call(root.querySelectorAll(sel)); }
  function noop() {}

  function post(url, init) {
    init.method = "POST";
    return fetch(url, init).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) { throw new Error("模拟器拒绝：" + (data.error || ("HTTP " + resp.status))); }
        return data;
      });
    });
  }

  function toast(p, text) {
    var box = one(p.el, ".toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(p.toastTimer);
    p.toastTimer = setTimeout(function () { box.hidden = true; }, 3500);
  }

  function report(p, data) {
    var statuses = data.statuses || [];
    if (data.queued) { return; }
    if (statuses.indexOf(200) < 0) {
      toast(p, "应用没有正常应答（" + (statuses.join("、") || "未送达") + "）");
    } else if (data.reply_error) {
      toast(p, "被动回复有误：" + data.reply_error);
    }
  }

  function act(p, name, body) {
    var payload = Object.assign({userid: p.userid}, body);
    var init = {headers: {"Content-Type": "application/json"}, body: JSON.stringify(payload)};
    return post(actBase + name, init).then(function (data) { report(p, data); return data; }, function (err) {
      toast(p, err.message);
      throw err;
    });
  }

  function nearBottom(p) { return p.msgs.scrollHeight - p.msgs.scrollTop - p.msgs.clientHeight < 60; }
  function scrollBottom(p) { p.msgs.scrollTop = p.msgs.scrollHeight; }

  function markTimes(p) {
    var last = null;
    all(p.msgs, ".msg").forEach(function (m) {
      if (m.hidden) { return; }
      var at = Number(m.dataset.at);
      var label = one(m, ".msg-time");
      if (label) { label.hidden = !(last === null || at - last > 300); }
      last = at;
    });
  }

  function renderBadges(p) {
    var conv = p.el.dataset.conv;
    var others = 0;
    all(p.el, ".conv-item").forEach(function (b) {
      var n = p.unread[b.dataset.chat] || 0;
      var badge = one(b, ".conv-item-badge");
      badge.textContent = String(n);
      badge.hidden = !n || b.dataset.chat === conv;
      if (b.dataset.chat !== conv) { others += n; }
    });
    var total = one(p.el, ".conv-badge");
    total.textContent = String(others);
    total.hidden = !others;
  }

  function applyConv(p) {
    var conv = p.el.dataset.conv;
    all(p.msgs, ".msg").forEach(function (m) { m.hidden = (m.dataset.chat || "") !== conv; });
    var current = one(p.el, '.conv-item[data-chat="' + CSS.escape(conv) + '"]');
    one(p.el, ".conv-name").textContent = current ? current.dataset.name : (conv ? "群聊" : appName);
    all(p.el, ".conv-item").forEach(function (b) { b.classList.toggle("conv-current", b.dataset.chat === conv); });
    renderBadges(p);
    markTimes(p);
  }

  function renderConvs(p, convs) {
    var sig = JSON.stringify(convs);
    if (sig === p.convSig) { return; }
    p.convSig = sig;
    var list = one(p.el, ".conv-list");
    list.textContent = "";
    convs.forEach(function (c) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      var name = document.createElement("span");
      var badge = document.createElement("span");
      b.type = "button";
      b.className = "conv-item";
      b.dataset.action = "conv";
      b.dataset.chat = c.chat;
      b.dataset.name = c.name;
      name.className = "conv-item-name";
      name.textContent = (c.chat ? "群聊：" : "应用：") + c.name;
      badge.className = "conv-item-badge";
      badge.hidden = true;
      b.appendChild(name);
      b.appendChild(badge);
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  function switchConv(p, chat) {
    p.el.dataset.conv = chat;
    p.unread[chat] = 0;
    closePopups(p, null);
    applyConv(p);
    scrollBottom(p);
  }

  function setMenu(p, html, hasMenu) {
    var had = p.el.dataset.hasMenu === "1";
    one(p.el, ".menu-slot").innerHTML = html;
    p.el.dataset.hasMenu = hasMenu ? "1" : "0";
    if (hasMenu && !had) { p.el.dataset.mode = "menu"; }
    if (!hasMenu) { p.el.dataset.mode = "input"; }
  }

  function upsert(p, m) {
    var holder = document.createElement("div");
    holder.innerHTML = m.html;
    var node = one(holder, ".msg");
    if (!node) { return null; }
    var old = one(p.msgs, '.msg[data-key="' + m.key + '"]');
    if (old) {
      old.replaceWith(node);
      return "changed";
    }
    var later = all(p.msgs, ".msg").filter(function (el) { return Number(el.dataset.key) > m.key; })[0];
    p.msgs.insertBefore(node, later || null);
    return "new";
  }

  function applyFeed(data) {
    if (data.reset) {
      order.forEach(function (u) { phones[u].msgs.textContent = ""; phones[u].unread = {}; });
    }
    cursor = data.cursor;
    Object.keys(data.phones || {}).forEach(function (u) {
      var p = phones[u];
      if (!p) { return; }
      var entry = data.phones[u];
      var near = nearBottom(p);
      var fresh = false;
      entry.messages.forEach(function (m) {
        if (upsert(p, m) !== "new") { return; }
        if (m.chat === p.el.dataset.conv) { fresh = true; } else { p.unread[m.chat] = (p.unread[m.chat] || 0) + 1; }
      });
      if (entry.convs) { renderConvs(p, entry.convs); }
      if (entry.menu_html !== undefined) { setMenu(p, entry.menu_html, entry.has_menu); }
      applyConv(p);
      if (fresh || near) { scrollBottom(p); }
    });
    menuSig = data.menu_sig;
  }

  function poll() {
    var query = order.map(function (u) { return "u=" + encodeURIComponent(u); });
    query.push("since=" + cursor, "timeout=10", "menu=" + encodeURIComponent(menuSig));
    fetch(feedUrl + "?" + query.join("&"), {cache: "no-store"}).then(function (resp) {
      if (!resp.ok) { throw new Error("HTTP " + resp.status); }
      return resp.json();
    }).then(function (data) {
      applyFeed(data);
      failures = 0;
      setTimeout(poll, 0);
    }).catch(function (err) {
      failures += 1;
      if (window.console) { console.warn("phone feed:", err); }
      setTimeout(poll, Math.min(10000, 1000 * failures));
    });
  }

  function openFrame(p, url) {
    if (!/^https?:\/\//i.test(url || "")) { toast(p, "无法打开这个链接"); return; }
    var frame = one(p.el, ".frame");
    var host = url;
    try { host = new URL(url).host; } catch (e) { /* keep the raw URL as the title */ }
    one(frame, ".frame-title").textContent = host;
    one(frame, ".frame-ext").href = url;
    one(frame, "iframe").src = url;
    frame.hidden = false;
  }

  function closeFrame(p) {
    var frame = one(p.el, ".frame");
    one(frame, "iframe").src = "about:blank";
    frame.hidden = true;
  }

  function closePopups(p, keep) {
    all(p.el, ".menu-sub, .conv-list").forEach(function (el) { if (el !== keep) { el.hidden = true; } });
  }

  function syncInput(p) {
    p.bar.classList.toggle("has-text", p.text.value.length > 0);
    p.text.style.height = "auto";
    p.text.style.height = Math.min(Math.max(p.text.scrollHeight, 36), 100) + "px";
  }

  function sendText(p) {
    var text = p.text.value;
    if (!text.trim()) { return; }
    p.text.value = "";
    syncInput(p);
    var chat = p.el.dataset.conv;
    if (chat) {  // typed in a group chat: its members see it, the app never does (as in WeCom)
      var init = {headers: {"Content-Type": "application/json"},
                  body: JSON.stringify({userid: p.userid, chatid: chat, text: text})};
      post(actBase + "group_say", init).catch(function (err) {
        toast(p, err.message);
        if (!p.text.value) { p.text.value = text; syncInput(p); }
      });
      return;
    }
    act(p, "say", {text: text}).catch(function () {
      if (!p.text.value) { p.text.value = text; syncInput(p); }
    });
  }

  function sendLink(p) {
    var urlInput = one(p.el, 'input[name="url"]');
    var titleInput = one(p.el, 'input[name="title"]');
    var url = urlInput.value.trim();
    if (!/^https?:\/\//i.test(url)) { toast(p, "请填写 http:// 或 https:// 开头的链接"); return; }
    act(p, "link", {url: url, title: titleInput.value.trim() || url, description: ""}).then(function () {
      urlInput.value = "";
      titleInput.value = "";
      one(p.el, ".plus-panel").hidden = true;
    }, noop);
  }

  function sendImage(p, input) {
    var file = input.files && input.files[0];
    if (!file) { return; }
    var form = new FormData();
    form.append("userid", p.userid);
    form.append("image", file, file.name);
    input.value = "";
    one(p.el, ".plus-panel").hidden = true;
    post(actBase + "image", {body: form}).then(function (data) { report(p, data); }, function (err) {
      toast(p, err.message);
    });
  }

  function clickCard(p, button) {
    var card = button.closest(".card");
    var body = {task_id: button.dataset.taskId, key: button.dataset.key};
    if (button.dataset.submit) {
      var selected = {};
      all(card, "input[data-question]:checked").forEach(function (i) {
        (selected[i.dataset.question] = selected[i.dataset.question] || []).push(i.value);
      });
      all(card, "select[data-question]").forEach(function (s) { selected[s.dataset.question] = [s.value]; });
      body.selected = selected;
    }
    var buttons = all(card, ".card-btn");
    var before = buttons.map(function (b) { return b.disabled; });
    buttons.forEach(function (b) { b.disabled = true; });
    act(p, "card_click", body).catch(noop).then(function () {
      buttons.forEach(function (b, i) { b.disabled = before[i]; });
    });
  }

  function handleAction(p, action, target) {
    var panel = one(p.el, ".plus-panel");
    if (action === "send") { sendText(p); }
    else if (action === "plus") { panel.hidden = !panel.hidden; }
    else if (action === "to-menu") { p.el.dataset.mode = "menu"; panel.hidden = true; }
    else if (action === "to-input") { p.el.dataset.mode = "input"; p.text.focus(); }
    else if (action === "link-send") { sendLink(p); }
    else if (action === "pick-image") { one(p.el, 'input[name="image"]').click(); }
    else if (action === "frame-back") { closeFrame(p); }
    else if (action === "conv") { switchConv(p, target.dataset.chat || ""); }
    else if (action === "conv-toggle") {
      var list = one(p.el, ".conv-list");
      closePopups(p, list);
      list.hidden = !list.hidden;
    } else if (action === "menu-open") {
      var sub = one(target.parentNode, ".menu-sub");
      closePopups(p, sub);
      sub.hidden = !sub.hidden;
    }
  }

  function onClick(p, e) {
    if (e.target.closest("input, select, textarea, label")) { return; }
    var target = e.target.closest("[data-action], [data-act], [data-open]");
    if (!target || !p.el.contains(target)) { closePopups(p, null); return; }
    e.preventDefault();
    if (target.dataset.action) { handleAction(p, target.dataset.action, target); return; }
    closePopups(p, null);
    if (target.dataset.act === "card_click") { clickCard(p, target); }
    else if (target.dataset.act === "click") { act(p, "click", {key: target.dataset.menuKey}).catch(noop); }
    else { openFrame(p, target.dataset.open); }
  }

  function setup(el) {
    var p = {el: el, userid: el.dataset.userid, msgs: one(el, ".msgs"), bar: one(el, ".bar"),
             text: one(el, 'textarea[name="text"]'), unread: {}, convSig: null, toastTimer: null};
    el.addEventListener("click", function (e) { onClick(p, e); });
    p.text.addEventListener("input", function () { syncInput(p); });
    p.text.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        sendText(p);
      }
    });
    one(el, 'input[name="image"]').addEventListener("change", function (e) { sendImage(p, e.target); });
    one(el, 'input[name="url"]').addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); sendLink(p); }
    });
    applyConv(p);
    scrollBottom(p);
    return p;
  }

  all(page, ".phone[data-userid]").forEach(function (el) {
    var p = setup(el);
    phones[p.userid] = p;
    order.push(p.userid);
  });
  document.addEventListener("click", function (e) {
    order.forEach(function (u) { if (!phones[u].el.contains(e.target)) { closePopups(phones[u], null); } });
  });
  poll();
}());
