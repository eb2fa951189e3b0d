// Draws one cluster with vis-network from the JSON embedded in the page.
// Tooltips are plain-text DOM nodes (textContent), never parsed as HTML.
(function () {
  "use strict";
  var payload = JSON.parse(document.getElementById("network-data").textContent);
  var container = document.getElementById("network");

  function plainText(text) {
    var box = document.createElement("div");
    box.className = "tooltip-text";
    box.textContent = text;
    return box;
  }
  [payload.nodes, payload.edges].forEach(function (items) {
    items.forEach(function (item) {
      if (typeof item.title === "string") {
        item.title = plainText(item.title);
      }
    });
  });

  var network = new vis.Network(
    container,
    { nodes: new vis.DataSet(payload.nodes), edges: new vis.DataSet(payload.edges) },
    payload.options
  );
  network.once("afterDrawing", function () {
    container.setAttribute("data-drawn-nodes", String(Object.keys(network.getPositions()).length));
    container.setAttribute("data-drawn-edges", String(network.body.edgeIndices.length));
    container.setAttribute("data-has-canvas", String(container.getElementsByTagName("canvas").length > 0));
  });
})();
