package environment_test

import (
	"encoding/json"
	"fmt"

	"github.com/tidings-mail/tidings/internal/environment"
)

func ExampleLoad() {
	config := []byte(`
environments:
  staging:
    smtp: { host: smtp.staging.example }
    allow: [altea.example]
`)
	getenv := func(k string) string {
		return map[string]string{"TIDINGS_SMTP_PASSWORD": "s3cret"}[k]
	}
	e, err := environment.Load(config, "tidings.yaml", "staging", getenv)
	if err != nil {
		fmt.Println(err)
		return
	}
	j, _ := json.Marshal(e.SMTP)
	fmt.Println(e.SMTP.Addr(), e.SMTP.TLS, e.SMTP.Password)
	fmt.Println(string(j))
	fmt.Println(e.Allowed("ana@altea.example"), e.Allowed("ana@gmail.example"))
	// Output:
	// smtp.staging.example:587 starttls ***
	// {"Host":"smtp.staging.example","Port":587,"TLS":"starttls","Username":"","Password":"***","Connections":8,"HELO":"","Timeout":30000000000}
	// true false
}
