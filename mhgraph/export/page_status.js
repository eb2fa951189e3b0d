// Records on the <html> element what the page loaded and what its security policy blocked,
// so that anyone (or an automated check) can see that the page fetched nothing.
(function () {
  "use strict";
  var root = document.documentElement;
  root.setAttribute("data-csp-violations", "0");
  document.addEventListener("securitypolicyviolation", function (event) {
    root.setAttribute("data-csp-violations", String(Number(root.getAttribute("data-csp-violations")) + 1));
    root.setAttribute("data-csp-last-violation", event.violatedDirective + " " + event.blockedURI);
  });
  window.addEventListener("load", function () {
    root.setAttribute("data-resources-loaded", String(performance.getEntriesByType("resource").length));
    root.setAttribute("data-page-loaded", "true");
  });
})();
