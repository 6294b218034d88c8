package io.layerscope.report;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The report page parsed by the JDK's XML parser (the page is well-formed XML), queried with XPath. */
final class XmlPage {
    final Document doc;

    XmlPage(String html) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        f.setExpandEntityReferences(false);
        doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
    }

    List<Element> all(String xpath) throws Exception {
        NodeList nodes = (NodeList) XPathFactory.newInstance().newXPath().evaluate(xpath, doc, XPathConstants.NODESET);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add((Element) nodes.item(i));
        }
        return out;
    }

    Element one(String xpath) throws Exception {
        List<Element> found = all(xpath);
        if (found.size() != 1) {
            throw new AssertionError(found.size() + " elements match " + xpath + ", expected one");
        }
        return found.get(0);
    }

    List<String> texts(String xpath) throws Exception {
        return all(xpath).stream().map(e -> e.getTextContent()).toList();
    }

    List<String> attributes(String xpath, String attribute) throws Exception {
        return all(xpath).stream().map(e -> e.getAttribute(attribute)).toList();
    }
}
