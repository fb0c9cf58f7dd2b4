package campaign_test

import (
	"fmt"

	"github.com/tidings-mail/tidings/internal/campaign"
)

func ExampleParse() {
	c, err := campaign.Parse([]byte(`
name: spring-news
environment: staging
template: welcome
recipients: people.csv
from: "Altea <news@altea.example>"
rate: 600/m
batches: { canary_per_locale: 2, size: 1000 }
`), "campaigns/spring.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Name, c.Rate, c.Batches.Interval, c.Path(c.Recipients))

	_, err = campaign.Parse([]byte("name: x\nenvironment: s\ntemplate: t\nrecipients: r.csv\nfrom: a@b.example\nbatchs: {size: 5}\n"), "x.yaml")
	fmt.Println(err)
	// Output:
	// spring-news 600/m 1m0s campaigns/people.csv
	// x.yaml:6: batchs: unknown key: check the spelling; known keys here are name, environment, template, templates_dir, locales_dir, default_locale, recipients, from, reply_to, list_unsubscribe, locale_policy, batches, rate, auto_pause, retry, data
}
